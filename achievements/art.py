"""The art of each achievement and level, drawn as SVG by the app (no image files).

A medal: a ring in the level's metal (grey while locked), the rule's own glyph in the middle, a
ribbon in the rule's colour, and one star per level. Pure string building, cached by the browser.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

from achievements.rules import LEVEL_NAMES, Rule

METALS = {
    0: ("#e3e6ea", "#b9bfc6"),
    1: ("#f0b27a", "#a0522d"),
    2: ("#f4f6f8", "#8d99a6"),
    3: ("#ffe680", "#c9a100"),
}
# Glyphs: small paths on a 40x40 grid centred on (50, 50).
GLYPHS = {
    "mentioned": "M34 40h32v18H48l-8 8v-8h-6z",  # speech bubble
    "shared_message": "M36 56l14-14 14 14M50 42v24",  # arrow up (passed on)
    "mentioners_day": "M50 32v6M50 62v6M32 50h6M62 50h6M50 42a8 8 0 1 1 0 16a8 8 0 1 1 0-16",
    "messages_shared": "M36 44h20v16H36zM44 36h20v16",  # stacked posts
    "plus_k_given": "M50 36v28M36 50h28",  # plus
    "plus_k_topic": "M50 34l5 10 11 2-8 8 2 11-10-5-10 5 2-11-8-8 11-2z",  # star
    "score": "M34 62l10-12 8 6 14-18",  # rising line
    "networks": (  # three linked nodes
        "M38 50a6 6 0 1 0 .1 0M62 38a6 6 0 1 0 .1 0M62 62a6 6 0 1 0 .1 0M43 47l14-7M43 53l14 7"
    ),
    "topic_top": "M36 64h28M40 64V48M50 64V38M60 64V54",  # podium bars
    "moment": "M54 32L40 54h10l-4 14 14-22H50z",  # lightning
    "early_member": "M50 36a14 14 0 1 0 .1 0M50 42v8l6 4",  # clock
}
RIBBONS = [
    "#5b8def", "#e8618c", "#2bb3a3", "#f29d38", "#8e6cef", "#3aa0d8",
    "#d9534f", "#4caf50", "#9c7b52", "#e0b400", "#607d8b",
]  # fmt: skip


def medal_svg(rule: Rule, level: int, *, index: int = 0, size: int = 96) -> str:
    """The SVG of `rule` at `level` (0 = locked), `size` pixels square, with an accessible title."""
    light, dark = METALS.get(level, METALS[0])
    ribbon = RIBBONS[index % len(RIBBONS)] if level else "#c7ccd1"
    glyph = GLYPHS.get(rule.key, "M40 50h20")
    stars = "".join(_star(50 + (i - (level - 1) / 2) * 12, 86) for i in range(level))
    title = escape(f"{rule.name}: {LEVEL_NAMES[level] if level else 'locked'}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="{size}" '
        f'height="{size}" role="img" aria-label="{title}"><title>{title}</title>'
        f'<defs><radialGradient id="m{level}" cx="40%" cy="35%" r="70%">'
        f'<stop offset="0" stop-color="{light}"/><stop offset="1" stop-color="{dark}"/>'
        "</radialGradient></defs>"
        f'<path d="M30 70l-10 26 14-6 8 10 8-30zM70 70l10 26-14-6-8 10-8-30z" fill="{ribbon}"/>'
        f'<circle cx="50" cy="48" r="34" fill="url(#m{level})" stroke="{dark}" stroke-width="3"/>'
        f'<circle cx="50" cy="48" r="26" fill="none" stroke="{ribbon}" stroke-width="2" '
        'opacity=".7"/>'
        f'<g transform="translate(0 -2)"><path d="{glyph}" fill="none" stroke="#2b2f36" '
        'stroke-width="3.2" stroke-linecap="round" stroke-linejoin="round"/></g>'
        f"{stars}</svg>"
    )


def _star(cx: float, cy: float, r: float = 5.0) -> str:
    points = []
    for k in range(10):
        radius = r if k % 2 == 0 else r * 0.45
        angle = math.pi / 2 + k * math.pi / 5
        points.append(f"{cx + radius * math.cos(angle):.1f},{cy - radius * math.sin(angle):.1f}")
    return f'<polygon points="{" ".join(points)}" fill="#2b2f36"/>'
