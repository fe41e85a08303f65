"""The loop's story in one chart: weekly AUC against the oracle, alert precision, and what happened when.

Drawn as inline SVG (the summary page stays one self-contained file): each week's AUC of
the scores the callers got with its 95% interval, the oracle's AUC on the same
transactions, the precision of the alerts the analysts reviewed, and a dated marker for
the scenario's change and for each decision, retrain, shadow, canary, promotion and
rollback.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

__all__ = ["story_chart"]

WIDTH, HEIGHT = 1100, 360
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 70, 50
MARKED = {
    "check: retrain": ("#c0392b", "retrain decided"),
    "check: retrain_scheduled": ("#d35400", "scheduled retrain"),
    "shadow": ("#7f8c8d", "shadow"),
    "canary": ("#8e44ad", "canary"),
    "promoted": ("#27ae60", "promoted"),
    "rolled back": ("#e67e22", "rolled back"),
}


def _x(day: float, days: int) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * day / max(days, 1)


def _y(value: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - value)


def _line(points: list[tuple[float, float]], colour: str, dashed: bool = False) -> str:
    if not points:
        return ""
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>' for x, y in points)
    return f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>{dots}'


def story_chart(result: dict[str, Any]) -> str:
    """The SVG chart of ``summary.json``'s weeks and events."""
    config = result["config"]
    first, days = date.fromisoformat(config["first_day"]), int(config["replay_days"])
    weeks = result["weeks"]
    served, oracle, precision, bars = [], [], [], []
    for index, week in enumerate(weeks):
        middle = _x(min(index * 7 + 3.5, days - 0.5), days)
        if week["auc"] is not None:
            served.append((middle, _y(week["auc"])))
            if week.get("auc_ci") is not None:
                low, high = max(0.0, week["auc"] - week["auc_ci"]), min(1.0, week["auc"] + week["auc_ci"])
                bars.append(
                    f'<line x1="{middle:.1f}" x2="{middle:.1f}" y1="{_y(low):.1f}" '
                    f'y2="{_y(high):.1f}" stroke="#2c6fbb" stroke-width="1.5"/>'
                )
        if week.get("oracle_auc") is not None:
            oracle.append((middle, _y(week["oracle_auc"])))
        if week.get("alert_precision") is not None:
            precision.append((middle, _y(week["alert_precision"])))
    grid = "".join(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_y(v):.1f}" y2="{_y(v):.1f}" stroke="#e5e5e5"/>'
        f'<text x="{LEFT - 8}" y="{_y(v) + 4:.1f}" text-anchor="end" font-size="12">{v:.1f}</text>'
        for v in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    )
    ticks = "".join(
        f'<line x1="{_x(d, days):.1f}" x2="{_x(d, days):.1f}" y1="{HEIGHT - BOTTOM}" '
        f'y2="{HEIGHT - BOTTOM + 5}" stroke="#555"/><text x="{_x(d, days):.1f}" y="{HEIGHT - BOTTOM + 20}" '
        f'text-anchor="middle" font-size="12">{date.fromordinal(first.toordinal() + d):%b %d}</text>'
        for d in range(0, days + 1, 7)
    )
    markers = []
    if config["scenario"] != "none":
        change = _x(int(config["drift_after_days"]), days)
        markers.append(
            f'<line x1="{change:.1f}" x2="{change:.1f}" y1="{TOP - 10}" y2="{HEIGHT - BOTTOM}" '
            f'stroke="#000" stroke-width="2" stroke-dasharray="2 3"/>'
            f'<text x="{change + 4:.1f}" y="{TOP - 14}" font-size="12">'
            f"the change ({html.escape(config['scenario'])})</text>"
        )
    seen: list[tuple[float, int]] = []
    for event in result["events"]:
        style = MARKED.get(event["stage"])
        if style is None:
            continue
        colour, label = style
        day = (date.fromisoformat(event["day"]) - first).days + 1  # at the end of that day
        x = _x(day, days)
        row = sum(1 for other, _ in seen if abs(other - x) < 120)
        seen.append((x, row))
        y_text = TOP - 44 + 14 * (row % 3)
        markers.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y_text + 3:.1f}" y2="{HEIGHT - BOTTOM}" stroke="{colour}" '
            f'stroke-width="1.5"/><text x="{x + 3:.1f}" y="{y_text:.1f}" font-size="11" fill="{colour}">'
            f"{html.escape(label)}</text>"
        )
    legend = (
        f'<g font-size="12" transform="translate({LEFT + 10},{HEIGHT - 12})">'
        '<circle cx="0" cy="-4" r="4" fill="#2c6fbb"/>'
        '<text x="8" y="0">AUC of what callers got (95% interval)</text>'
        '<circle cx="270" cy="-4" r="4" fill="#999"/><text x="278" y="0">oracle AUC, same transactions</text>'
        '<circle cx="500" cy="-4" r="4" fill="#16a085"/>'
        '<text x="508" y="0">alert precision (reviewed alerts)</text>'
        "</g>"
    )
    return (
        f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="system-ui,sans-serif" role="img" '
        f'aria-label="weekly AUC against the oracle, alert precision and the loop\'s events">'
        f"{grid}{ticks}{''.join(bars)}{_line(oracle, '#999', dashed=True)}{_line(served, '#2c6fbb')}"
        f"{_line(precision, '#16a085')}{''.join(markers)}{legend}</svg>"
        "<figcaption>Each week: AUC of the scores the callers got against the final labels, the oracle's "
        "on the same transactions, and the share of reviewed alerts that were fraud.</figcaption></figure>"
    )
