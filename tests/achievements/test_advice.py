"""Advice comes from the person's own figures, carries its number, and never says "post more"."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from achievements.advice import AdviceFigures, advice_for

figures = st.builds(
    AdviceFigures,
    actions_received=st.integers(0, 10_000),
    top_post_kind=st.sampled_from(["", "original", "reshare", "reply"]),
    top_post_kind_share=st.integers(0, 100),
    top_network_label=st.sampled_from(["", "Mastodon", "Stack Exchange"]),
    top_network_share=st.integers(0, 100),
    top_hour=st.one_of(st.none(), st.integers(0, 23)),
    top_hour_share=st.integers(0, 100),
    top_influencee_handle=st.sampled_from(["", "bob"]),
)


@given(figures)
def test_advice_never_says_post_more_and_always_shows_its_number(f: AdviceFigures) -> None:
    advice = advice_for(f)
    assert "post more" not in advice.lower()
    if advice and "@" not in advice:
        assert "%" in advice


def test_no_reactions_no_advice() -> None:
    assert advice_for(AdviceFigures(top_post_kind="reply", top_post_kind_share=90)) == ""


def test_a_dominant_post_kind_comes_first() -> None:
    advice = advice_for(
        AdviceFigures(
            actions_received=40,
            top_post_kind="reply",
            top_post_kind_share=75,
            top_network_label="Mastodon",
            top_network_share=60,
        )
    )
    assert advice.startswith("Your replies drew 75%")


def test_one_network_only_is_no_news_so_the_hour_speaks() -> None:
    advice = advice_for(
        AdviceFigures(
            actions_received=40,
            top_network_label="Mastodon",
            top_network_share=100,
            top_hour=18,
            top_hour_share=22,
        )
    )
    assert advice == (
        "22% of your reactions arrive between 18:00 and 19:00 UTC: share shortly before then."
    )
