"""Server-side SVG charts: pure functions from plain values to accessible SVG markup.

No Django here on purpose: the chart is computed from plain tuples so it is cheap to test and to
render on every dashboard view. Every piece of text is escaped; callers may mark the result safe.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 720
HEIGHT = 300
PAD_LEFT = 60
PAD_RIGHT = 16
PAD_TOP = 16
PAD_BOTTOM = 52
Y_TICKS = (0, 25, 50, 75, 100)


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One day of a score series: its day, 1-100 score and algorithm version name."""

    day: dt.date
    score: float
    version: str


def _x(day: dt.date, start: dt.date, span_days: int) -> float:
    inner = WIDTH - PAD_LEFT - PAD_RIGHT
    if span_days <= 0:
        return PAD_LEFT + inner / 2
    return PAD_LEFT + inner * (day - start).days / span_days


def _y(score: float) -> float:
    inner = HEIGHT - PAD_TOP - PAD_BOTTOM
    clamped = min(max(score, 0.0), 100.0)
    return PAD_TOP + inner * (1 - clamped / 100)


def version_changes(points: Sequence[ChartPoint]) -> list[ChartPoint]:
    """The points where the algorithm version differs from the previous point's."""
    return [cur for prev, cur in itertools.pairwise(points) if cur.version != prev.version]


def history_svg(
    points: Sequence[ChartPoint],
    *,
    start: dt.date,
    end: dt.date,
    held_days: Sequence[dt.date] = (),
    title: str = "Score history",
    day_href: str | None = None,
    chart_id: str = "history",
) -> str:
    """An accessible line chart of daily scores, marking held days and version changes.

    `day_href`, if given, is a URL prefix such as "?day=": each point links to it plus the ISO day
    so a person can open that day's explanation without JavaScript.
    """
    span = max((end - start).days, 0)
    title_id = f"{chart_id}-title"
    desc_id = f"{chart_id}-desc"
    ordered = sorted(points, key=lambda p: p.day)
    if ordered:
        low = min(p.score for p in ordered)
        high = max(p.score for p in ordered)
        desc = (
            f"{len(ordered)} daily scores from {start.isoformat()} to {end.isoformat()}, "
            f"lowest {low:.0f}, highest {high:.0f}, latest {ordered[-1].score:.0f}."
        )
    else:
        desc = f"No published scores between {start.isoformat()} and {end.isoformat()}."
    held_in_range = sorted({d for d in held_days if start <= d <= end})
    if held_in_range:
        desc += f" {len(held_in_range)} day(s) held back for review are shaded."
    changes = version_changes(ordered)
    if changes:
        desc += " Algorithm version changes are marked with dashed lines."

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" class="history-chart">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(desc)}</desc>',
    ]
    # Axes and grid.
    x0, x1 = PAD_LEFT, WIDTH - PAD_RIGHT
    out.append('<g class="axis axis-y" aria-hidden="true">')
    for tick in Y_TICKS:
        y = _y(tick)
        out.append(f'<line class="grid" x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}"/>')
        out.append(
            f'<text x="{x0 - 8}" y="{y:.1f}" text-anchor="end" dominant-baseline="middle">'
            f"{tick}</text>"
        )
    out.append("</g>")
    out.append(
        f'<text class="axis-label" x="12" y="{PAD_TOP + (HEIGHT - PAD_TOP - PAD_BOTTOM) / 2:.0f}" '
        f'transform="rotate(-90 12 {PAD_TOP + (HEIGHT - PAD_TOP - PAD_BOTTOM) / 2:.0f})" '
        'text-anchor="middle">Score</text>'
    )
    base_y = _y(0)
    out.append('<g class="axis axis-x" aria-hidden="true">')
    label_days = [start, start + dt.timedelta(days=span // 2), end] if span else [start]
    for i, day in enumerate(label_days):
        anchor = (
            "start"
            if i == 0 and span
            else ("end" if i == len(label_days) - 1 and span else "middle")
        )
        out.append(
            f'<text x="{_x(day, start, span):.1f}" y="{base_y + 22:.1f}" '
            f'text-anchor="{anchor}">{day:%b %-d}</text>'
        )
    out.append(
        f'<text class="axis-label" x="{(x0 + x1) / 2:.0f}" y="{HEIGHT - 4}" '
        'text-anchor="middle">Day</text>'
    )
    out.append("</g>")
    # Held-back days: a shaded band the width of one day.
    day_w = (x1 - x0) / span if span else 8.0
    for day in held_in_range:
        x = _x(day, start, span) - day_w / 2
        out.append(
            f'<rect class="held" x="{x:.1f}" y="{PAD_TOP}" width="{max(day_w, 3):.1f}" '
            f'height="{base_y - PAD_TOP:.1f}"><title>{day.isoformat()}: held back for review'
            "</title></rect>"
        )
    # Version changes: a dashed vertical line labelled with the new version.
    for point in changes:
        x = _x(point.day, start, span)
        out.append(
            f'<g class="version-change"><line x1="{x:.1f}" y1="{PAD_TOP}" x2="{x:.1f}" '
            f'y2="{base_y:.1f}"/><text x="{x + 3:.1f}" y="{PAD_TOP + 10}">'
            f"{escape(point.version)}</text><title>{point.day.isoformat()}: algorithm "
            f"{escape(point.version)} starts</title></g>"
        )
    # The line, broken where the version changes (a new version is a new series).
    segments: list[list[ChartPoint]] = []
    for point in ordered:
        if segments and segments[-1][-1].version == point.version:
            segments[-1].append(point)
        else:
            segments.append([point])
    for segment in segments:
        if len(segment) > 1:
            coords = " ".join(f"{_x(p.day, start, span):.1f},{_y(p.score):.1f}" for p in segment)
            out.append(f'<polyline class="line" points="{coords}"/>')
    for point in ordered:
        cx, cy = _x(point.day, start, span), _y(point.score)
        dot = (
            f'<circle class="dot" cx="{cx:.1f}" cy="{cy:.1f}" r="3.5"><title>'
            f"{point.day.isoformat()}: {point.score:.0f} ({escape(point.version)})</title></circle>"
        )
        if day_href is not None:
            href = escape(f"{day_href}{point.day.isoformat()}")
            dot = f'<a href="{href}">{dot}</a>'
        out.append(dot)
    out.append("</svg>")
    return "".join(out)


def history_table_rows(points: Sequence[ChartPoint], *, day_href: str | None = None) -> str:
    """The chart's data as table rows, newest first (the accessible twin of `history_svg`)."""
    out: list[str] = []
    for point in sorted(points, key=lambda p: p.day, reverse=True):
        label = f"{point.day:%a %b %-d}"
        if day_href is not None:
            href = escape(f"{day_href}{point.day.isoformat()}")
            label = f'<a href="{href}">{label}</a>'
        out.append(
            f"<tr><td>{label}</td><td>{point.score:.0f}</td><td>{escape(point.version)}</td></tr>"
        )
    return "".join(out)
