"""Skewless's base layer: what every stage stands on, importing none of them.

Settings and profiles, the one error tree, the feature contract (names only), the data
layout, atomic writes, progress reporting, the model's input encoding, the raw data's
manifest, the served-feature log's schema and the model-registry client. The stages
(``simulation``, ``feature_repo``, ``training``, ``serving``, ``monitoring``) build on it,
and ``lifecycle`` drives the stages; ``docs/architecture.md`` draws the layers and
``.importlinter`` enforces them.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
