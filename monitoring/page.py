"""The parts both drift pages share: badges, the feature table, each feature's section, the rules.

Features are listed flagged first (drift, null, unseen, constant), then those that
could not be judged, then the rest, each group by name: what needs a look comes first.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from monitoring.drift import FLAGGED, FeatureDrift
from monitoring.plots import TRAINING_LEGEND, Legend, feature_plot
from skewless.atomic import write_text_atomic

__all__ = [
    "PAGE_STYLE",
    "badge",
    "feature_sections",
    "feature_table",
    "flagged_first",
    "number",
    "percent",
    "rules_table",
    "write_report_files",
]

STATUS_COLOURS = {
    "ok": "#2e7d32",
    "drift": "#c62828",
    "null": "#c62828",
    "constant": "#c62828",
    "unseen": "#c62828",
    "insufficient": "#757575",
    "absent": "#ef6c00",
    "cyclic": "#757575",
    "skew": "#c62828",
    "drop": "#c62828",
}
_ORDER = {status: rank for rank, status in enumerate([*FLAGGED, "absent", "insufficient", "cyclic", "ok"])}

PAGE_STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222;font-size:15px}
table{border-collapse:collapse;font-size:.9rem}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left}
th{background:#f4f6fa}.summary{background:#f4f6fa;padding:1rem 1.25rem;border-radius:6px}
.badge{color:#fff;border-radius:4px;padding:.05rem .45rem;font-size:.85rem}
section.feature{margin:1.25rem 0;padding-top:.5rem;border-top:1px solid #e5e5e5}
section.feature h3{margin:.2rem 0}.why{margin:.2rem 0 .5rem;color:#444}
svg{margin-right:.5rem;border:1px solid #eee;max-width:100%;vertical-align:top}"""


def badge(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#333")
    return f'<span class="badge" style="background:{colour}">{html.escape(status)}</span>'


def number(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def flagged_first(features: Iterable[FeatureDrift]) -> list[FeatureDrift]:
    """Flagged features first, then those not judged, then the rest; by name within each."""
    return sorted(features, key=lambda f: (_ORDER.get(f.status, len(_ORDER)), f.name))


def _row(feature: FeatureDrift) -> str:
    effect = feature.ks_distance if feature.kind == "numeric" else feature.js_distance
    cells = [
        f'<a href="#feature-{html.escape(feature.name)}">{html.escape(feature.name)}</a>',
        badge(feature.status),
        ("KS " if feature.kind == "numeric" else "JS ") + number(effect) if effect is not None else "–",
        number(feature.psi),
        "–" if feature.ks_p_value is None else f"{feature.ks_p_value:.2g}",
        number(feature.wasserstein_std),
        "–" if feature.chi_square_p_value is None else f"{feature.chi_square_p_value:.2g}",
        f"{feature.null_rate_reference:.1%} → {percent(feature.null_rate)}",
        percent(feature.unseen_share),
        f"{feature.effective_rows:,.0f}",
        html.escape("; ".join(feature.reasons)),
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def feature_table(features: Sequence[FeatureDrift], reference_name: str = "training") -> str:
    """Every feature's figures, one row each, flagged first."""
    header = ["feature", "status", "effect size", "PSI", "KS p", "W/σ", "χ² p"]
    header += [f"null rate ({reference_name} → now)", "unseen", "eff. n", "why"]
    rows = "".join(_row(f) for f in flagged_first(features))
    return f"<table><tr>{''.join(f'<th>{html.escape(h)}</th>' for h in header)}</tr>{rows}</table>"


def feature_sections(features: Sequence[FeatureDrift], legend: Legend = TRAINING_LEGEND) -> str:
    """Per feature: its name and status, why, then its plots (flagged first)."""
    sections = []
    for feature in flagged_first(features):
        image = feature_plot(feature, legend) or '<p class="why">no values to plot</p>'
        why = "; ".join(feature.reasons) or "within the rules"
        sections.append(
            f'<section class="feature" id="feature-{html.escape(feature.name)}">'
            f"<h3>{html.escape(feature.name)} {badge(feature.status)}</h3>"
            f'<p class="why">{html.escape(why)}</p>{image}</section>'
        )
    return "".join(sections)


RULE_MEANINGS = {
    "alpha": "family-wise false-alarm rate, split over all tests (Bonferroni)",
    "ks_min_distance": "smallest KS distance that counts as drift (numeric)",
    "wasserstein_min_std": "or smallest Wasserstein distance, in reference standard deviations (numeric)",
    "js_min_distance": "smallest Jensen-Shannon distance that counts as drift (categorical)",
    "min_rows": "fewer rows than this: insufficient, not judged",
    "null_rate_increase": "rise of the null rate (absolute) that counts",
    "unseen_share": "share of values in categories the reference never had that counts",
    "psi_moderate": "PSI band: moderate shift (reported, does not decide)",
    "psi_major": "PSI band: major shift (reported, does not decide)",
    "psi_epsilon": "floor on bin shares, so an empty bin keeps PSI finite",
    "daily_cycle_features": "judged only on windows of a day or more",
}


def rules_table(rules: Mapping[str, Any]) -> str:
    """The drift rules as a table: name, value, what it means."""
    rows = "".join(
        f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(_value(value))}</td>"
        f"<td>{html.escape(RULE_MEANINGS.get(name, ''))}</td></tr>"
        for name, value in rules.items()
    )
    return f"<table><tr><th>rule</th><th>value</th><th>meaning</th></tr>{rows}</table>"


def _value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "none"
    return str(value)


def write_report_files(folder: Path, document: Mapping[str, Any], page: str) -> tuple[Path, Path]:
    """Write ``report.json`` (``document``) and ``report.html`` (``page``) into ``folder``, atomically."""
    json_path, html_path = folder / "report.json", folder / "report.html"
    write_text_atomic(json.dumps(document, indent=2, default=_plain), json_path)
    write_text_atomic(page, html_path)
    return json_path, html_path


def _plain(value: Any) -> Any:
    """numpy scalars and arrays, dataclasses, anything else as text: what JSON cannot take itself."""
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return str(value)
