"""Pictures for the monitoring report, as inline SVG: self-contained, sharp, and quick.

A report has a plot per feature; drawing them with matplotlib took about 0.3 s
each (9 s for 29 features), so they are written as small SVG documents instead.
Every text is 12 px; bin labels are slanted and whole; time axes carry dates; an
empty series says "no data".
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from monitoring.drift import FeatureDrift, WindowDrift
from monitoring.performance import WindowPerformance

__all__ = ["feature_plot", "trend_plot"]

REFERENCE_COLOUR, WINDOW_COLOUR, ALERT_COLOUR, MUTED = "#4c72b0", "#dd8452", "#c44e52", "#bbbbbb"
WIDTH, HEIGHT, MARGIN, TOP = 440, 210, 44, 28
FONT_PX = 12  # every text of a plot: readable at 100% zoom (nothing under 11 px)
BAR_LABEL_BOTTOM = 96  # bar charts keep room under the axis and on the left for their slanted labels
BAR_LABEL_LEFT = 84
Legend = tuple[str, str]
TRAINING_LEGEND: Legend = ("training", "served")


def _frame(
    title: str,
    body: str,
    width: int = WIDTH,
    legend: Legend | None = TRAINING_LEGEND,
    height: int = HEIGHT,
) -> str:
    key = ""
    if legend is not None:
        first, second = (html.escape(name) for name in legend)
        key = (
            f'<rect x="{width - 170}" y="7" width="11" height="11" fill="{REFERENCE_COLOUR}"/>'
            f'<text x="{width - 155}" y="17">{first}</text>'
            f'<rect x="{width - 85}" y="7" width="11" height="11" fill="{WINDOW_COLOUR}"/>'
            f'<text x="{width - 70}" y="17">{second}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="{FONT_PX}" role="img">'
        f'<title>{html.escape(title)}</title><rect width="100%" height="100%" fill="#fff"/>'
        f'<text x="8" y="17" font-weight="bold">{html.escape(title)}</text>{key}{body}</svg>'
    )


def _axes(width: int, y_max: float, bottom: float, percent: bool = False, left: int = MARGIN) -> str:
    lines = [f'<line x1="{left}" y1="{bottom}" x2="{width - 8}" y2="{bottom}" stroke="#999"/>']
    for fraction in (0.0, 0.5, 1.0):
        y = bottom - fraction * (bottom - TOP)
        value = f"{fraction * y_max:.0%}" if percent else f"{fraction * y_max:.2g}"
        lines.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{value}</text>')
    return "".join(lines)


def _no_data(width: int, bottom: float) -> str:
    return (
        f'<text x="{(MARGIN + width) / 2:.0f}" y="{(TOP + bottom) / 2:.0f}" text-anchor="middle" '
        f'fill="#757575">no data</text>'
    )


def _bars(labels: Sequence[str], reference: Sequence[float], window: Sequence[float], width: int) -> str:
    bottom, top, left = HEIGHT + 40 - BAR_LABEL_BOTTOM, TOP, BAR_LABEL_LEFT
    y_max = max([*reference, *window, 1e-9])
    step = (width - left - 8) / max(len(labels), 1)
    parts = [_axes(width, y_max, bottom, percent=True, left=left)]
    for i, label in enumerate(labels):
        x = left + i * step
        for offset, value, colour in ((0.1, reference[i], REFERENCE_COLOUR), (0.5, window[i], WINDOW_COLOUR)):
            height = value / y_max * (bottom - top)
            parts.append(
                f'<rect x="{x + offset * step:.1f}" y="{bottom - height:.1f}" width="{0.4 * step:.1f}" '
                f'height="{height:.1f}" fill="{colour}">'
                f"<title>{html.escape(label)}: {value:.1%}</title></rect>"
            )
        if len(labels) <= 24:  # slanted, whole: a label never overlaps its neighbour
            text = label if len(label) <= 22 else label[:21] + "…"
            centre = x + step / 2
            parts.append(
                f'<text x="{centre:.1f}" y="{bottom + 14}" text-anchor="end" '
                f'transform="rotate(-35 {centre:.1f} {bottom + 14})">{html.escape(text)}</text>'
            )
    return "".join(parts)


def _cdf(grid: Sequence[float], reference: Sequence[float], window: Sequence[float], width: int) -> str:
    bottom = HEIGHT - MARGIN
    low, high = grid[0], grid[-1]
    span = (high - low) or 1.0

    def path(values: Sequence[float], colour: str) -> str:
        points = []
        for i, (x_value, y_value) in enumerate(zip(grid, values, strict=True)):
            x = MARGIN + (x_value - low) / span * (width - MARGIN - 8)
            y = bottom - y_value * (bottom - TOP)
            points.append(f"H{x:.1f}V{y:.1f}" if i else f"M{x:.1f},{y:.1f}")
        return f'<path d="{"".join(points)}" fill="none" stroke="{colour}" stroke-width="1.8"/>'

    labels = (
        f'<text x="{MARGIN}" y="{bottom + 15}">{low:.4g}</text>'
        f'<text x="{width - 8}" y="{bottom + 15}" text-anchor="end">{high:.4g}</text>'
    )
    return (
        _axes(width, 1.0, bottom, percent=True)
        + path(reference, REFERENCE_COLOUR)
        + path(window, WINDOW_COLOUR)
        + labels
    )


def feature_plot(feature: FeatureDrift, legend: Legend = TRAINING_LEGEND) -> str | None:
    """Reference against current: shares per decile bin or category, and for numeric features the CDFs."""
    if not feature.bins:
        return None
    kind = "share per decile bin" if feature.kind == "numeric" else "share per category"
    plots = [
        _frame(
            kind,
            _bars(feature.bins, feature.reference_shares, feature.window_shares, WIDTH),
            legend=legend,
            height=HEIGHT + 40,
        )
    ]
    if feature.kind == "numeric" and len(feature.grid) > 1:
        title = f"cumulative share, KS distance {feature.ks_distance or 0:.3f}"
        plots.append(
            _frame(title, _cdf(feature.grid, feature.reference_cdf, feature.window_cdf, WIDTH), legend=legend)
        )
    return "".join(plots)


def _tick(starts: Sequence[str], i: int) -> str:
    """A window's start as its date, with the hour when windows are shorter than a day."""
    hourly = len(starts) > 1 and starts[0][:10] == starts[1][:10]
    return f"{starts[i][:10]} {starts[i][11:13]}:00" if hourly else starts[i][:10]


def _date_ticks(starts: Sequence[str], step: float, bottom: float) -> str:
    """Dates under a time axis: the first, the last and a few between, never overlapping."""
    if not starts:
        return ""
    every = max(1, round(len(starts) / 5))
    marks = sorted({*range(0, len(starts), every), len(starts) - 1})
    if len(marks) > 1 and marks[-1] - marks[-2] < every:
        marks.pop(-2)
    last = len(starts) - 1
    anchors = {0: "start", last: "end"}  # the end labels stay inside the plot
    return "".join(
        f'<text x="{MARGIN + (i + (0 if i == 0 else 1 if i == last else 0.5)) * step:.1f}" y="{bottom + 15}" '
        f'text-anchor="{anchors.get(i, "middle")}">{html.escape(_tick(starts, i))}</text>'
        for i in marks
    )


def trend_plot(windows: Sequence[WindowDrift], performance: Sequence[WindowPerformance]) -> str | None:
    """Per window: share of features drifted (red: dataset drift, grey: too small); AUC and label coverage."""
    if len(windows) < 2:
        return None
    width = max(WIDTH * 2, 14 * len(windows) + MARGIN + 8)
    bottom = HEIGHT - MARGIN
    step = (width - MARGIN - 8) / len(windows)
    starts = [window.start for window in windows]
    bars = [_axes(width, 1.0, bottom, percent=True), _date_ticks(starts, step, bottom)]
    for i, window in enumerate(windows):
        colour = {"drift": ALERT_COLOUR, "insufficient": MUTED}.get(window.verdict, REFERENCE_COLOUR)
        height = max(window.share_drifted, 0.01) * (bottom - TOP)
        bars.append(
            f'<rect x="{MARGIN + i * step + 1:.1f}" y="{bottom - height:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{height:.1f}" fill="{colour}"><title>{window.start[:13]}: {window.verdict}, '
            f"{', '.join(window.drifted) or 'nothing flagged'}</title></rect>"
        )
    if all(window.rows == 0 for window in windows):
        bars.append(_no_data(width, bottom))
    drift = _frame(
        "share of features drifted per window (red: dataset drift)", "".join(bars), width, legend=None
    )
    coverage = [_axes(width, 1.0, bottom), _date_ticks([p.start for p in performance], step, bottom)]
    points = []
    for i, measured in enumerate(performance):
        x = MARGIN + i * step
        height = measured.coverage * (bottom - TOP)
        coverage.append(
            f'<rect x="{x + 1:.1f}" y="{bottom - height:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{height:.1f}" '
            f'fill="#e0e0e0"><title>{measured.start[:13]}: coverage {measured.coverage:.0%}</title></rect>'
        )
        if measured.auc is not None:
            points.append((x + step / 2, bottom - measured.auc * (bottom - TOP), measured))
    for x, y, measured in points:
        colour = ALERT_COLOUR if measured.status == "drop" else WINDOW_COLOUR
        coverage.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
            f"<title>AUC {measured.auc:.3f}</title></circle>"
        )
    if len(points) > 1:
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        coverage.append(f'<polyline points="{line}" fill="none" stroke="{WINDOW_COLOUR}"/>')
    if not points:
        coverage.append(_no_data(width, bottom))
    auc = _frame(
        "live AUC per window (dots) over label coverage (grey)", "".join(coverage), width, legend=None
    )
    return drift + auc
