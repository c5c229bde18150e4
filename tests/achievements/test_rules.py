"""The achievement rules: levels, progress and the vectorised evaluation agree and behave."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from achievements.rules import FIGURES, RULES, RULES_BY_KEY, Rule, evaluate, progress_for

rules = st.sampled_from(RULES)
values = st.integers(min_value=0, max_value=2_000_000)


@given(rules, values, values)
def test_a_better_figure_never_lowers_the_level(rule: Rule, a: int, b: int) -> None:
    low, high = sorted((a, b))
    if rule.better == "lower":
        # For a member number smaller is better (0 means "not ranked").
        if low == 0:
            return
        low, high = high, low
    assert rule.level(low) <= rule.level(high)


@given(rules, st.lists(values, max_size=50))
def test_the_vectorised_levels_equal_the_one_person_levels(rule: Rule, figures: list[int]) -> None:
    column = rule.levels(np.asarray(figures, dtype=np.int64))
    assert column.tolist() == [rule.level(v) for v in figures]


@given(rules, values)
def test_progress_names_the_next_threshold_and_stays_between_0_and_1(rule: Rule, v: int) -> None:
    progress = rule.progress(v)
    assert 0.0 <= progress.fraction <= 1.0
    assert progress.target == rule.thresholds[min(progress.level, 2)]
    if progress.level == 3:
        assert progress.fraction == 1.0
        assert progress.next_level_name is None
    elif rule.better == "higher":
        assert progress.text == f"{v:,}/{progress.target:,} {rule.unit}"
        assert v < progress.target


def test_progress_reads_like_the_original() -> None:
    progress = RULES_BY_KEY["mentioned"].progress(73)
    assert progress.text == "73/100 people"
    assert progress.level_name == "silver"
    assert progress.next_level_name == "gold"


@given(rules)
def test_each_threshold_is_exactly_where_its_level_starts(rule: Rule) -> None:
    for level, threshold in enumerate(rule.thresholds, start=1):
        assert rule.level(threshold) == level
        if rule.better == "higher":
            assert rule.level(threshold - 1) == level - 1
        else:
            assert rule.level(threshold + 1) == level - 1


@given(st.integers(min_value=0, max_value=40), st.data())
def test_evaluate_is_every_rule_applied_to_its_figure(n: int, data: st.DataObject) -> None:
    figures = {f: data.draw(st.lists(values, min_size=n, max_size=n)) for f in FIGURES}
    levels = evaluate(figures, n)
    assert levels.shape == (n, len(RULES))
    for column, rule in enumerate(RULES):
        assert levels[:, column].tolist() == [rule.level(v) for v in figures[rule.figure]]


def test_missing_figures_unlock_nothing() -> None:
    levels = evaluate({"score": [72, 10]}, 2)
    score_column = [r.key for r in RULES].index("score")
    assert levels[:, score_column].tolist() == [3, 0]
    assert levels.sum() == 3


def test_a_figure_of_the_wrong_length_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="expected 3 values"):
        evaluate({"score": [1, 2]}, 3)


def test_thresholds_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="not in level order"):
        Rule(key="x", name="X", description="", figure="x", thresholds=(5, 5, 10), unit="u")


def test_progress_for_covers_every_rule_and_the_early_member_rank() -> None:
    progress = progress_for({"member_number": 800, "mentioners": 12})
    assert [p.rule.key for p in progress] == [r.key for r in RULES]
    by_key = {p.rule.key: p for p in progress}
    assert by_key["early_member"].level_name == "gold"
    assert by_key["mentioned"].level_name == "bronze"
    assert by_key["plus_k_given"].level == 0


@given(rules, values, st.integers(min_value=0, max_value=3))
def test_a_level_once_held_is_never_shown_lower(rule: Rule, v: int, held: int) -> None:
    progress = rule.progress(v, held)
    assert progress.level == max(rule.level(v), held)
