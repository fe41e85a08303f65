"""The model registry on MLflow: a sqlite file (embedded profile) or a tracking server.

Every call goes through an explicit ``MlflowClient`` built from this object's URI, so
two registries (or a registry and a test's own) live side by side in one process.
MLflow's *fluent* API (``mlflow.start_run``, ``mlflow.log_*``, ``mlflow.lightgbm.log_model``)
has no client form and reads one process-wide URI: :meth:`MlflowModelRegistry.fluent`
points it here for the length of a ``with`` block and puts back what was there before.
It is the only place Skewless touches that process-wide setting.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skewless.errors import ModelNotFoundError, RegistryUnavailableError
from skewless.modes import Profile
from skewless.registry.client import ModelRegistry
from skewless.settings import Settings

if TYPE_CHECKING:
    import lightgbm as lgb
    from mlflow import MlflowClient

__all__ = ["MlflowModelRegistry"]

_NOT_FOUND = ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND")
# MLflow 3's UI opens an experiment of this kind on its training runs, not on the GenAI overview.
TRAINING_EXPERIMENT_TAGS = {
    "mlflow.experimentKind": "custom_model_development",
    "mlflow.note.content": "Skewless training runs: point-in-time training sets from the Feast feature "
    "service, LightGBM, the evaluation suite and the reference profile monitoring reads.",
}


def _not_found(error: Exception) -> bool:
    return getattr(error, "error_code", "") in _NOT_FOUND


class MlflowModelRegistry(ModelRegistry):
    """A registered model in MLflow's registry at ``tracking_uri``.

    Args:
        tracking_uri: MLflow's tracking (and registry) URI: ``sqlite:///…`` or ``http://…``.
        model_name: the registered model.
        artifact_location: where new experiments keep their artifacts (embedded profile:
            ``data/mlartifacts``); None lets the server decide.
    """

    def __init__(self, tracking_uri: str, model_name: str, artifact_location: str | None = None) -> None:
        super().__init__(model_name)
        self.tracking_uri = tracking_uri
        self.artifact_location = artifact_location
        self._run_ids: dict[int, str] = {}

    @classmethod
    def from_settings(cls, settings: Settings, model_name: str | None = None) -> MlflowModelRegistry:
        """The registry of the settings' profile, for ``model_name`` (default: the settings')."""
        embedded = settings.profile is Profile.EMBEDDED
        location = settings.layout.mlflow_artifacts.as_uri() if embedded else None
        return cls(settings.tracking_uri, model_name or settings.model_name, location)

    @cached_property
    def client(self) -> MlflowClient:
        """The MLflow client, on this registry's URI only (created on first use)."""
        from mlflow import MlflowClient

        if self.tracking_uri.startswith("sqlite:///"):  # MLflow creates the file, not its folder
            Path(self.tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def ui_hint(self) -> str:
        """How a person opens these runs and models: a local UI, or the tracking server."""
        if self.tracking_uri.startswith(("http://", "https://")):
            return f"open {self.tracking_uri}"
        return f"mlflow ui --backend-store-uri {self.tracking_uri}   (then http://127.0.0.1:5000)"

    @contextmanager
    def fluent(self) -> Iterator[None]:
        """Point MLflow's fluent API at this registry for the block, and restore it after."""
        from mlflow.tracking._tracking_service.utils import _use_tracking_uri

        with _use_tracking_uri(self.tracking_uri):
            yield

    def experiment_id(self, name: str) -> str:
        """The id of experiment ``name``, created (with this registry's artifact location) if needed."""
        with self._unavailable_as_error():
            experiment = self.client.get_experiment_by_name(name)
            if experiment is None:
                return str(
                    self.client.create_experiment(
                        name, artifact_location=self.artifact_location, tags=TRAINING_EXPERIMENT_TAGS
                    )
                )
            for key, value in TRAINING_EXPERIMENT_TAGS.items():  # an experiment made before these tags
                if experiment.tags.get(key) is None:
                    self.client.set_experiment_tag(experiment.experiment_id, key, value)
            return str(experiment.experiment_id)

    # ---- primitives -------------------------------------------------------------------

    def versions(self) -> list[int]:
        with self._unavailable_as_error():
            found = self.client.search_model_versions(f"name = '{self.model_name}'")
        return sorted(int(version.version) for version in found)

    def aliases(self) -> dict[str, int]:
        model = self._registered_model()
        return {} if model is None else {alias: int(v) for alias, v in (model.aliases or {}).items()}

    def set_alias(self, alias: str, version: int) -> None:
        with self._unavailable_as_error():
            self.client.set_registered_model_alias(self.model_name, alias, str(version))

    def delete_alias(self, alias: str) -> None:
        if alias in self.aliases():
            with self._unavailable_as_error():
                self.client.delete_registered_model_alias(self.model_name, alias)

    def model_tags(self) -> dict[str, str]:
        model = self._registered_model()
        return {} if model is None else dict(model.tags or {})

    def set_model_tag(self, key: str, value: str) -> None:
        with self._unavailable_as_error():
            self.client.set_registered_model_tag(self.model_name, key, value)

    def delete_model_tag(self, key: str) -> None:
        if key in self.model_tags():
            with self._unavailable_as_error():
                self.client.delete_registered_model_tag(self.model_name, key)

    def version_tags(self, version: int) -> dict[str, str]:
        return dict(self._model_version(version).tags or {})

    def set_version_tag(self, version: int, key: str, value: str) -> None:
        with self._unavailable_as_error():
            self.client.set_model_version_tag(self.model_name, str(version), key, value)

    def describe_version(self, version: int, description: str) -> None:
        with self._unavailable_as_error():
            self.client.update_model_version(self.model_name, str(version), description=description)

    def version_description(self, version: int) -> str:
        return str(self._model_version(version).description or "")

    def download_artifact(self, version: int, artifact: str, folder: Path) -> Path:
        run_id = self.run_id(version)
        with self._unavailable_as_error(f"v{version} has no artifact {artifact}"):
            return Path(self.client.download_artifacts(run_id, artifact, str(folder)))

    def load_booster(self, version: int) -> lgb.Booster:
        import mlflow.artifacts
        import mlflow.lightgbm

        self._model_version(version)  # a clear error for a version that does not exist
        folder = tempfile.mkdtemp(prefix="skewless-model-")
        try:
            with self._unavailable_as_error():
                # The model's own location, so that no ``models:/`` URI is resolved against
                # MLflow's process-wide registry.
                location = self.client.get_model_version_download_uri(self.model_name, str(version))
                local = mlflow.artifacts.download_artifacts(
                    artifact_uri=location, dst_path=folder, tracking_uri=self.tracking_uri
                )
            booster: lgb.Booster = mlflow.lightgbm.load_model(local)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return booster

    # ---- MLflow specifics ---------------------------------------------------------------

    def run_id(self, version: int) -> str:
        """The training run that registered ``version``."""
        if version not in self._run_ids:
            self._run_ids[version] = str(self._model_version(version).run_id)
        return self._run_ids[version]

    def _registered_model(self) -> Any:
        try:
            with self._unavailable_as_error():
                return self.client.get_registered_model(self.model_name)
        except ModelNotFoundError:
            return None

    def _model_version(self, version: int) -> Any:
        with self._unavailable_as_error(f"model '{self.model_name}' has no version {version}"):
            return self.client.get_model_version(self.model_name, str(version))

    @contextmanager
    def _unavailable_as_error(self, not_found: str | None = None) -> Iterator[None]:
        """MLflow's errors as ours: a missing object is ModelNotFoundError, anything else
        (the server down, a broken database) RegistryUnavailableError."""
        from mlflow.exceptions import MlflowException

        try:
            yield
        except MlflowException as e:
            if _not_found(e):
                raise ModelNotFoundError(not_found or f"model '{self.model_name}' is not registered") from e
            raise RegistryUnavailableError(f"model registry unavailable ({self.tracking_uri}): {e}") from e
        except OSError as e:  # a local artifact store that cannot be read
            raise RegistryUnavailableError(f"model registry unavailable ({self.tracking_uri}): {e}") from e
