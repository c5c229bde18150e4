"""The embeddable score badge: a pure function from a score to SVG markup."""

from __future__ import annotations

from html import escape


def badge_svg(*, score: int | None, label: str = "Klout") -> str:
    """A small shields-style badge: "Klout | 42" (or "Klout | n/a" without a score)."""
    value = "n/a" if score is None else str(score)
    left_w = 8 + 7 * len(label)
    right_w = 14 + 8 * len(value)
    width = left_w + right_w
    text = f"{escape(label)}: {escape(value)}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" '
        f'viewBox="0 0 {width} 20" role="img" aria-label="{text}">'
        f"<title>{text}</title>"
        f'<rect width="{left_w}" height="20" rx="3" fill="#1d2330"/>'
        f'<rect x="{left_w}" width="{right_w}" height="20" rx="3" fill="#e0492f"/>'
        f'<rect x="{left_w}" width="4" height="20" fill="#e0492f"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" '
        'text-anchor="middle">'
        f'<text x="{left_w / 2:.1f}" y="14">{escape(label)}</text>'
        f'<text x="{left_w + right_w / 2:.1f}" y="14" font-weight="bold">{escape(value)}</text>'
        "</g></svg>"
    )
