"""What every command shares: the process's settings and registry, built once, on first use.

The group callback only records the global options; the :class:`Invocation` builds the
settings (and the registry) when a command first asks, so ``--help`` and a refused
argument answer at once and write nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any

import typer

from skewless.errors import ConfigurationError
from skewless.third_party import prepare_third_party

if TYPE_CHECKING:
    from skewless.registry import MlflowModelRegistry
    from skewless.settings import Settings

__all__ = ["Invocation", "day", "echo_json", "invocation", "moment_option", "utc"]


@dataclass
class Invocation:
    """The global options of one run of ``skewless``, and what is built from them."""

    overrides: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def settings(self) -> Settings:
        """The one settings object of this process: global options over ``SKEWLESS_*`` variables.

        Raises:
            ConfigurationError: a setting is invalid (each problem is named).
        """
        from pydantic import ValidationError

        from skewless.settings import Settings

        try:
            return Settings(**self.overrides)
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(map(str, err['loc']))}: {err['msg'].removeprefix('Value error, ')}"
                for err in e.errors()
            )
            raise ConfigurationError(f"invalid settings: {problems}") from e

    @cached_property
    def registry(self) -> MlflowModelRegistry:
        """The model registry of the settings' profile, for the settings' model."""
        from skewless.registry import MlflowModelRegistry

        return MlflowModelRegistry.from_settings(self.settings)


def invocation(ctx: typer.Context, feast: bool = True) -> Invocation:
    """The command's invocation, its settings checked, with third-party noise silenced (which
    imports Feast, for seconds, unless ``feast=False``).

    Raises:
        ConfigurationError: a setting is invalid.
    """
    found: Invocation = ctx.find_root().obj
    found.settings  # noqa: B018  (a bad setting is refused before anything slow)
    prepare_third_party(import_feast=feast)
    return found


def day(value: datetime | None) -> date | None:
    """The date of a ``--start/--end`` style option."""
    return value.date() if value is not None else None


def utc(value: datetime | None) -> datetime | None:
    """A naive option value read as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def moment_option(help_text: str) -> Any:
    """A UTC moment option: a day, or a day and a time."""
    return typer.Option(
        formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"], help=help_text, show_default=False
    )


LegitSampleRateOption = Annotated[
    float,
    typer.Option(
        min=1e-9,
        max=1.0,
        help="Keep this share of the train split's legitimate rows (every fraud), weighted back; "
        "for sets too large to hold.",
    ),
]


def echo_json(payload: dict[str, Any]) -> None:
    """Print a command's result as JSON on stdout (progress goes to stderr)."""
    typer.echo(json.dumps(payload, indent=2, default=str))
