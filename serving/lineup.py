"""The models an API process serves, read from the registry as one immutable snapshot.

A :class:`Lineup` holds the champion, the challenger when one is registered, the
deployment the registry (or the settings) asks for, and the mode actually in force.
A request reads the process's lineup once, so a reload, which builds a new lineup
and assigns it in one step, never mixes two lineups within a request.

The mode in force falls back to ``single`` when the requested mode cannot be
honoured: no challenger, a challenger that fails to load, or a challenger already
rolled back from canary. The reason is kept in ``note`` and shown by ``GET /deployment``.

Canary assignment is sticky: a customer's id is hashed to a fixed point in [0, 1)
(:func:`canary_point`), and customers below the share go to the challenger. Raising
the share keeps every customer already on the challenger there.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from serving.canary import Arm
from serving.scorer import Scorer
from skewless.errors import ModelNotFoundError, SkewlessError
from skewless.modes import DeploymentMode
from skewless.registry import CHALLENGER, CHAMPION, Deployment, ModelRegistry, RegisteredModel
from skewless.settings import Settings

if TYPE_CHECKING:
    from feast import FeatureStore

__all__ = ["Active", "Lineup", "RegistryView", "build_lineup", "canary_point", "read_registry_view"]


def canary_point(customer_id: int) -> float:
    """A customer's fixed point in [0, 1): the same on every worker, process and day."""
    digest = hashlib.blake2b(str(customer_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class Active:
    """A model and the scorer bound to it."""

    model: RegisteredModel
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

    @property
    def models(self) -> list[RegisteredModel]:
        """The champion, then the challenger if there is one."""
        return [active.model for active in (self.champion, self.challenger) if active is not None]

    @property
    def challenger_version(self) -> int | None:
        return self.challenger.model.version if self.challenger else None

    def matches(self, view: RegistryView) -> bool:
        """True when ``view`` would build this same lineup."""
        return (
            self.champion.model.version == view.champion_version
            and self.challenger_version == view.challenger_version
            and self.requested == view.requested
            and (self.mode is DeploymentMode.SINGLE or view.challenger_rolled_back is None)
        )


def read_registry_view(registry: ModelRegistry, settings: Settings) -> RegistryView:
    """Read alias targets, the deployment tag and the challenger's rollback tag.

    Raises:
        ModelNotFoundError: the model has no champion.
        RegistryUnavailableError: the registry cannot be read.
    """
    aliases = registry.aliases()
    champion = aliases.get(CHAMPION)
    if champion is None:
        raise ModelNotFoundError(f"no model '{registry.model_name}' with alias '{CHAMPION}' in the registry")
    challenger = aliases.get(CHALLENGER)
    if challenger == champion:
        challenger = None
    requested = registry.deployment(Deployment.from_settings(settings))
    rolled_back = registry.canary_rollback(challenger) if challenger is not None else None
    return RegistryView(champion, challenger, requested, rolled_back)


def _activate(
    registry: ModelRegistry, version: int, alias: str, store: FeatureStore, settings: Settings
) -> Active:
    """A version with its scorer, warmed up before it serves anyone."""
    model = replace(registry.load(version), alias=alias)
    scorer = Scorer(store, model, degraded_scoring=settings.degraded_scoring)
    scorer.warm_up()
    return Active(model, scorer)


def build_lineup(
    registry: ModelRegistry,
    store: FeatureStore,
    settings: Settings,
    view: RegistryView,
    current: Lineup | None = None,
) -> Lineup:
    """The lineup ``view`` describes, reusing models of ``current`` whose version is unchanged.

    Raises:
        ModelNotFoundError, RegistryUnavailableError: the champion cannot be loaded.
    """
    if current is not None and current.champion.model.version == view.champion_version:
        champion = current.champion
    else:
        champion = _activate(registry, view.champion_version, CHAMPION, store, settings)
    challenger: Active | None = None
    note = ""
    if view.challenger_version is not None:
        if current is not None and current.challenger_version == view.challenger_version:
            challenger = current.challenger
        else:
            try:
                challenger = _activate(registry, view.challenger_version, CHALLENGER, store, settings)
            except (SkewlessError, OSError) as e:
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
