"""The models an API process serves, read from the registry as one immutable snapshot.

A :class:`Lineup` holds the champion, the challenger when one is registered, the
deployment the registry (or the settings) asks for, and the mode actually in force.
A request reads the process's lineup once, so a reload, which builds a new lineup
and assigns it in one step, never mixes two lineups within a request.

The mode in force falls back to ``single`` when the requested mode cannot be
honoured: no challenger, a challenger that fails to load, or a challenger already
rolled back from canary. The reason is kept in ``note`` and shown by ``GET /deployment``.
"""

from __future__ import annotations

from dataclasses import dataclass

from feast import FeatureStore
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from serving.canary import Arm
from serving.errors import ModelUnavailableError
from serving.model_source import ServingModel, load_model
from serving.scorer import Scorer
from skewless.deployment import Deployment, canary_point, read_canary_rollback, read_deployment
from skewless.errors import SkewlessError
from skewless.settings import DeploymentMode, Settings
from skewless.tracking import CHALLENGER, CHAMPION, alias_version

__all__ = ["Active", "Lineup", "RegistryView", "build_lineup", "read_registry_view"]


@dataclass(frozen=True)
class Active:
    """A model and the scorer bound to it."""

    model: ServingModel
    scorer: Scorer


@dataclass(frozen=True)
class RegistryView:
    """What the registry says now: alias targets, the requested deployment, a canary rollback."""

    champion_version: int
    challenger_version: int | None
    requested: Deployment
    challenger_rolled_back: str | None


@dataclass(frozen=True)
class Lineup:
    """Champion, optional challenger, and how traffic is shared between them."""

    champion: Active
    challenger: Active | None
    requested: Deployment
    mode: DeploymentMode
    note: str = ""

    def arm_of(self, customer_id: int) -> Arm:
        """Which model answers this customer (sticky: the same customer, the same model)."""
        if self.mode is DeploymentMode.CANARY and canary_point(customer_id) < self.requested.canary_share:
            return "challenger"
        return "champion"

    def matches(self, view: RegistryView) -> bool:
        """True when ``view`` would build this same lineup."""
        challenger = self.challenger.model.version if self.challenger else None
        return (
            self.champion.model.version == view.champion_version
            and challenger == view.challenger_version
            and self.requested == view.requested
            and (self.mode is DeploymentMode.SINGLE or view.challenger_rolled_back is None)
        )


def read_registry_view(client: MlflowClient, settings: Settings) -> RegistryView:
    """Read alias targets, the deployment tag and the challenger's rollback tag.

    Raises:
        ModelUnavailableError: the model has no champion.
    """
    name = settings.model_name
    champion = alias_version(client, name, CHAMPION)
    if champion is None:
        raise ModelUnavailableError(f"no model '{name}' with alias '{CHAMPION}' in the registry")
    challenger = alias_version(client, name, CHALLENGER)
    if challenger == champion:
        challenger = None
    requested = read_deployment(client, name, Deployment.from_settings(settings))
    rolled_back = read_canary_rollback(client, name, challenger) if challenger is not None else None
    return RegistryView(champion, challenger, requested, rolled_back)


def _activate(store: FeatureStore, model: ServingModel, settings: Settings) -> Active:
    """A model with its scorer, warmed up before it serves anyone."""
    scorer = Scorer(store, model, degraded_scoring=settings.degraded_scoring)
    scorer.warm_up()
    return Active(model, scorer)


def build_lineup(
    client: MlflowClient,
    store: FeatureStore,
    settings: Settings,
    view: RegistryView,
    current: Lineup | None = None,
) -> Lineup:
    """The lineup ``view`` describes, reusing models of ``current`` whose version is unchanged.

    Raises:
        ModelUnavailableError: the champion cannot be loaded.
    """
    name = settings.model_name
    if current is not None and current.champion.model.version == view.champion_version:
        champion = current.champion
    else:
        champion = _activate(store, load_model(client, name, CHAMPION), settings)
    challenger: Active | None = None
    note = ""
    if view.challenger_version is not None:
        if (
            current is not None
            and current.challenger is not None
            and (current.challenger.model.version == view.challenger_version)
        ):
            challenger = current.challenger
        else:
            try:
                challenger = _activate(store, load_model(client, name, CHALLENGER), settings)
            except (SkewlessError, MlflowException, OSError) as e:
                note = f"challenger v{view.challenger_version} could not be loaded: {e}"
    mode = view.requested.mode
    if mode is not DeploymentMode.SINGLE and challenger is None:
        note = note or f"{mode.value} requested, but no challenger is registered"
        mode = DeploymentMode.SINGLE
    elif mode is DeploymentMode.CANARY and view.challenger_rolled_back is not None:
        version, why = view.challenger_version, view.challenger_rolled_back
        note = f"challenger v{version} was rolled back from canary: {why}"
        mode = DeploymentMode.SINGLE
    return Lineup(champion, challenger, view.requested, mode, note)
