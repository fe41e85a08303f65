"""Pictures for the monitoring report, as inline SVG: self-contained, sharp, and quick.

A report has a plot per feature; drawing them with matplotlib took about 0.3 s
each (9 s for 29 features), so they are written as small SVG documents instead.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from monitoring.drift import FeatureDrift, WindowDrift
from monitoring.performance import WindowPerformance

__all__ = ["feature_plot", "trend_plot"]

REFERENCE_COLOUR, WINDOW_COLOUR, ALERT_COLOUR, MUTED = "#4c72b0", "#dd8452", "#c44e52", "#bbbbbb"
WIDTH, HEIGHT, MARGIN = 420, 190, 34


def _frame(title: str, body: str, width: int = WIDTH, legend: bool = True) -> str:
    key = (
        f'<rect x="{width - 150}" y="6" width="10" height="10" fill="{REFERENCE_COLOUR}"/>'
        f'<text x="{width - 136}" y="15">training</text>'
        f'<rect x="{width - 80}" y="6" width="10" height="10" fill="{WINDOW_COLOUR}"/>'
        f'<text x="{width - 66}" y="15">served</text>'
    )
    if not legend:
        key = ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" '
        f'viewBox="0 0 {width} {HEIGHT}" font-family="sans-serif" font-size="10" role="img">'
        f'<title>{html.escape(title)}</title><rect width="100%" height="100%" fill="#fff"/>'
        f'<text x="{MARGIN}" y="15" font-weight="bold">{html.escape(title)}</text>{key}{body}</svg>'
    )


def _axes(width: int, y_max: float) -> str:
    bottom, top = HEIGHT - MARGIN, 24
    lines = [f'<line x1="{MARGIN}" y1="{bottom}" x2="{width - 8}" y2="{bottom}" stroke="#999"/>']
    for fraction in (0.0, 0.5, 1.0):
        y = bottom - fraction * (bottom - top)
        lines.append(
            f'<text x="{MARGIN - 4}" y="{y + 3:.1f}" text-anchor="end">{fraction * y_max:.2g}</text>'
        )
    return "".join(lines)


def _bars(labels: Sequence[str], reference: Sequence[float], window: Sequence[float], width: int) -> str:
    bottom, top = HEIGHT - MARGIN, 24
    y_max = max([*reference, *window, 1e-9])
    step = (width - MARGIN - 8) / max(len(labels), 1)
    parts = [_axes(width, y_max)]
    for i, label in enumerate(labels):
        x = MARGIN + i * step
        for offset, value, colour in ((0.1, reference[i], REFERENCE_COLOUR), (0.5, window[i], WINDOW_COLOUR)):
            height = value / y_max * (bottom - top)
            parts.append(
                f'<rect x="{x + offset * step:.1f}" y="{bottom - height:.1f}" width="{0.4 * step:.1f}" '
                f'height="{height:.1f}" fill="{colour}">'
                f"<title>{html.escape(label)}: {value:.3f}</title></rect>"
            )
        if len(labels) <= 12:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{bottom + 12}" text-anchor="middle" font-size="8">'
                f"{html.escape(label[:12])}</text>"
            )
    return "".join(parts)


def _cdf(grid: Sequence[float], reference: Sequence[float], window: Sequence[float], width: int) -> str:
    bottom, top = HEIGHT - MARGIN, 24
    low, high = grid[0], grid[-1]
    span = (high - low) or 1.0

    def path(values: Sequence[float], colour: str) -> str:
        points = []
        for i, (x_value, y_value) in enumerate(zip(grid, values, strict=True)):
            x = MARGIN + (x_value - low) / span * (width - MARGIN - 8)
            y = bottom - y_value * (bottom - top)
            points.append(f"H{x:.1f}V{y:.1f}" if i else f"M{x:.1f},{y:.1f}")
        return f'<path d="{"".join(points)}" fill="none" stroke="{colour}" stroke-width="1.8"/>'

    labels = (
        f'<text x="{MARGIN}" y="{bottom + 12}">{low:.4g}</text>'
        f'<text x="{width - 8}" y="{bottom + 12}" text-anchor="end">{high:.4g}</text>'
    )
    return _axes(width, 1.0) + path(reference, REFERENCE_COLOUR) + path(window, WINDOW_COLOUR) + labels


def feature_plot(feature: FeatureDrift) -> str | None:
    """Training against served: shares per decile bin or category, and for numeric features the CDFs."""
    if not feature.bins:
        return None
    kind = "decile bins" if feature.kind == "numeric" else "categories"
    plots = [
        _frame(
            f"{feature.name}: {kind}",
            _bars(feature.bins, feature.reference_shares, feature.window_shares, WIDTH),
        )
    ]
    if feature.kind == "numeric" and len(feature.grid) > 1:
        title = f"CDF, KS distance {feature.ks_distance or 0:.3f}"
        plots.append(_frame(title, _cdf(feature.grid, feature.reference_cdf, feature.window_cdf, WIDTH)))
    return "".join(plots)


def trend_plot(windows: Sequence[WindowDrift], performance: Sequence[WindowPerformance]) -> str | None:
    """Per window: share of features drifted (red: dataset drift, grey: too small); AUC and label coverage."""
    if len(windows) < 2:
        return None
    width = max(WIDTH, 14 * len(windows) + MARGIN + 8)
    bottom, top = HEIGHT - MARGIN, 24
    step = (width - MARGIN - 8) / len(windows)
    bars = [_axes(width, 1.0)]
    for i, window in enumerate(windows):
        colour = {"drift": ALERT_COLOUR, "insufficient": MUTED}.get(window.verdict, REFERENCE_COLOUR)
        height = max(window.share_drifted, 0.01) * (bottom - top)
        bars.append(
            f'<rect x="{MARGIN + i * step + 1:.1f}" y="{bottom - height:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{height:.1f}" fill="{colour}"><title>{window.start[:13]}: {window.verdict}, '
            f"{', '.join(window.drifted) or 'nothing flagged'}</title></rect>"
        )
    drift = _frame(
        "share of features drifted per window (red: dataset drift)", "".join(bars), width, legend=False
    )
    coverage = [_axes(width, 1.0)]
    points = []
    for i, measured in enumerate(performance):
        x = MARGIN + i * step
        height = measured.coverage * (bottom - top)
        coverage.append(
            f'<rect x="{x + 1:.1f}" y="{bottom - height:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{height:.1f}" '
            f'fill="#e0e0e0"><title>{measured.start[:13]}: coverage {measured.coverage:.0%}</title></rect>'
        )
        if measured.auc is not None:
            points.append((x + step / 2, bottom - measured.auc * (bottom - top), measured))
    for x, y, measured in points:
        colour = ALERT_COLOUR if measured.status == "drop" else WINDOW_COLOUR
        coverage.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
            f"<title>AUC {measured.auc:.3f}</title></circle>"
        )
    if len(points) > 1:
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        coverage.append(f'<polyline points="{line}" fill="none" stroke="{WINDOW_COLOUR}"/>')
    auc = _frame(
        "live AUC per window (dots) over label coverage (grey)", "".join(coverage), width, legend=False
    )
    return drift + auc
