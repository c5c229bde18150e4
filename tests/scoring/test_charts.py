"""Server-side SVG: the history chart and the badge are pure functions of plain values."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from scoring.badges import badge_svg
from scoring.charts import ChartPoint, history_svg, version_changes

SVG = "{http://www.w3.org/2000/svg}"
END = dt.date(2026, 11, 1)
START = END - dt.timedelta(days=89)


def text_of(root: ET.Element, tag: str) -> str:
    found = root.find(f"{SVG}{tag}")
    assert found is not None
    return found.text or ""


def series(n: int, version: str = "v1", end: dt.date = END) -> list[ChartPoint]:
    return [
        ChartPoint(day=end - dt.timedelta(days=n - 1 - i), score=10.0 + i % 80, version=version)
        for i in range(n)
    ]


def test_history_svg_is_well_formed_with_title_description_and_axis_labels() -> None:
    root = ET.fromstring(history_svg(series(90), start=START, end=END, title="Alice's score"))
    assert root.get("role") == "img"
    assert text_of(root, "title") == "Alice's score"
    assert "90 daily scores" in text_of(root, "desc")
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "Score" in labels
    assert "Day" in labels
    assert "Aug 4" in labels
    assert "Nov 1" in labels


def test_history_svg_draws_one_dot_per_day_inside_the_plot() -> None:
    root = ET.fromstring(history_svg(series(90), start=START, end=END))
    dots = list(root.iter(f"{SVG}circle"))
    assert len(dots) == 90
    for dot in dots:
        assert 0 <= float(dot.get("cx", "-1")) <= 720
        assert 0 <= float(dot.get("cy", "-1")) <= 300


def test_history_svg_breaks_the_line_and_marks_a_version_change() -> None:
    points = series(10, "v1", END - dt.timedelta(days=10)) + series(10, "v2")
    svg = history_svg(points, start=START, end=END)
    root = ET.fromstring(svg)
    assert len(list(root.iter(f"{SVG}polyline"))) == 2
    assert svg.count('class="version-change"') == 1
    assert "algorithm v2 starts" in svg


def test_version_changes_lists_the_first_point_of_each_new_version() -> None:
    points = series(3, "v1", END - dt.timedelta(days=3)) + series(3, "v2")
    assert [p.version for p in version_changes(points)] == ["v2"]
    assert version_changes(series(5)) == []


def test_history_svg_shades_held_days_inside_the_window_only() -> None:
    held = [END - dt.timedelta(days=5), END + dt.timedelta(days=3)]
    svg = history_svg(series(30), start=START, end=END, held_days=held)
    assert svg.count('class="held"') == 1
    assert "held back for review" in svg


def test_history_svg_links_points_to_their_day_when_asked() -> None:
    svg = history_svg(series(2), start=START, end=END, day_href="?day=")
    assert f'<a href="?day={END.isoformat()}">' in svg


def test_history_svg_escapes_text() -> None:
    svg = history_svg(
        [ChartPoint(END, 50, "<v&1>")], start=START, end=END, title='<script>"x"</script>'
    )
    assert "<script>" not in svg
    assert "&lt;v&amp;1&gt;" in svg
    ET.fromstring(svg)


def test_history_svg_says_when_there_is_nothing_to_draw() -> None:
    root = ET.fromstring(history_svg([], start=START, end=END))
    assert "No published scores" in text_of(root, "desc")


def test_history_svg_copes_with_a_one_day_window() -> None:
    root = ET.fromstring(history_svg(series(1), start=END, end=END))
    assert len(list(root.iter(f"{SVG}circle"))) == 1


def test_badge_svg_shows_the_score_and_an_accessible_label() -> None:
    root = ET.fromstring(badge_svg(score=42))
    assert root.get("aria-label") == "Klout: 42"
    assert [t.text for t in root.iter(f"{SVG}text")] == ["Klout", "42"]


def test_badge_svg_without_a_score_says_n_a() -> None:
    assert "n/a" in badge_svg(score=None)
