"""The pure eligibility rules: who qualifies, which tier, and the sentences people read."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from perks.eligibility import Person, Place, Rules, Tier, TopicRule, check, shown

TODAY = dt.date(2026, 12, 3)
CANADA = Place("CA", "Canada")
MEXICO = Place("MX", "Mexico")
TIERS = (Tier("Bronze", 20, "20% off"), Tier("Silver", 50, "50% off"), Tier("Gold", 81, "100% off"))


def test_a_person_who_meets_everything_qualifies_with_their_tier() -> None:
    rules = Rules(
        min_score=40,
        topics=(TopicRule("Travel", 40),),
        countries=(CANADA,),
        regions=("Toronto",),
        networks=("GitHub",),
        min_account_age_days=30,
        tiers=TIERS,
    )
    person = Person(
        score=63.4,
        topic_scores={"Travel": 40.0},
        country="CA",
        region="  toronto ",
        networks=frozenset({"GitHub", "Mastodon"}),
        joined=TODAY - dt.timedelta(days=30),
    )

    verdict = check(rules, person, today=TODAY)

    assert verdict.eligible
    assert verdict.lacks == ()
    assert verdict.tier == Tier("Silver", 50, "50% off")


def test_the_topic_sentence_says_what_is_needed_and_what_the_person_has() -> None:
    rules = Rules(topics=(TopicRule("Travel", 40),))

    verdict = check(rules, Person(score=50, topic_scores={"Travel": 31.2}), today=TODAY)

    assert verdict.lacks == ("you need 40 in Travel (you have 31)",)
    assert not verdict.eligible


def test_people_outside_the_countries_are_told_where_the_perk_is_for() -> None:
    rules = Rules(countries=(CANADA,))

    assert check(rules, Person(score=50, country="US"), today=TODAY).lacks == (
        "this perk is for people in Canada",
    )
    assert check(rules, Person(score=50, country=""), today=TODAY).lacks == (
        "this perk is for people in Canada: set your country in settings",
    )
    two = Rules(countries=(CANADA, MEXICO))
    assert check(two, Person(score=50, country="US"), today=TODAY).lacks == (
        "this perk is for people in Canada or Mexico",
    )


def test_a_city_only_perk_refuses_people_elsewhere_in_the_country() -> None:
    """The original's location bug let 200 out-of-area people claim a city-only perk."""
    rules = Rules(countries=(CANADA,), regions=("Toronto",))

    verdict = check(rules, Person(score=50, country="CA", region="Vancouver"), today=TODAY)

    assert verdict.lacks == ("this perk is for people in Toronto",)


def test_score_networks_and_account_age_sentences() -> None:
    rules = Rules(min_score=40, networks=("GitHub", "Mastodon"), min_account_age_days=30)
    person = Person(score=31, joined=TODAY - dt.timedelta(days=12))

    assert check(rules, person, today=TODAY).lacks == (
        "you need a Klout score of 40 (you have 31)",
        "link a GitHub or Mastodon account",
        "your Klout account must be 30 days old (it is 12 days old)",
    )
    assert check(rules, Person(score=None), today=TODAY).lacks[0] == (
        "you need a Klout score of 40 (you have no score yet)"
    )


def test_below_the_lowest_tier_is_below_the_entry_score() -> None:
    rules = Rules(min_score=10, tiers=TIERS)

    verdict = check(rules, Person(score=15), today=TODAY)

    assert verdict.lacks == ("you need a Klout score of 20 (you have 15)",)
    assert verdict.tier is None


# --- properties -------------------------------------------------------------------------------

scores = st.floats(min_value=1, max_value=100, allow_nan=False)
tier_sets = st.lists(
    st.integers(min_value=1, max_value=100), min_size=0, max_size=5, unique=True
).map(lambda mins: tuple(Tier(f"T{m}", m, f"reward {m}") for m in sorted(mins)))
rules_strategy = st.builds(
    Rules,
    min_score=st.integers(min_value=0, max_value=100),
    topics=st.lists(
        st.builds(TopicRule, st.sampled_from(["Travel", "Food", "Jazz"]), st.integers(1, 100)),
        max_size=2,
        unique_by=lambda rule: rule.topic,
    ).map(tuple),
    countries=st.lists(st.sampled_from([CANADA, MEXICO]), max_size=2, unique=True).map(tuple),
    networks=st.lists(st.sampled_from(["GitHub", "Mastodon"]), max_size=2, unique=True).map(tuple),
    min_account_age_days=st.integers(min_value=0, max_value=400),
    tiers=tier_sets,
)
people = st.builds(
    Person,
    score=st.one_of(st.none(), scores),
    topic_scores=st.dictionaries(st.sampled_from(["Travel", "Food", "Jazz"]), scores),
    country=st.sampled_from(["", "CA", "MX", "US"]),
    networks=st.frozensets(st.sampled_from(["GitHub", "Mastodon", "Bluesky"])),
    joined=st.one_of(st.none(), st.dates(dt.date(2020, 1, 1), TODAY)),
)


@given(rules=rules_strategy, person=people)
def test_eligible_exactly_when_nothing_is_lacking_and_the_tier_fits_the_score(
    rules: Rules, person: Person
) -> None:
    verdict = check(rules, person, today=TODAY)

    assert verdict.eligible == (verdict.lacks == ())
    if verdict.eligible and rules.tiers:
        assert person.score is not None
        assert verdict.tier is not None
        assert verdict.tier.min_score <= shown(person.score)
        assert all(
            t.min_score <= verdict.tier.min_score or t.min_score > shown(person.score)
            for t in rules.tiers
        )
    if not verdict.eligible:
        assert verdict.tier is None


@given(rules=rules_strategy, person=people, boost=st.floats(min_value=0, max_value=99))
def test_a_higher_score_never_loses_eligibility(rules: Rules, person: Person, boost: float) -> None:
    if person.score is None or not check(rules, person, today=TODAY).eligible:
        return
    higher = Person(
        score=min(100.0, person.score + boost),
        topic_scores=person.topic_scores,
        country=person.country,
        networks=person.networks,
        joined=person.joined,
    )
    verdict = check(rules, higher, today=TODAY)
    assert verdict.eligible
    before = check(rules, person, today=TODAY).tier
    if before is not None:
        assert verdict.tier is not None
        assert verdict.tier.min_score >= before.min_score


@given(rules=rules_strategy, person=people)
def test_every_missing_threshold_is_named_with_its_number(rules: Rules, person: Person) -> None:
    lacks = " | ".join(check(rules, person, today=TODAY).lacks)

    for rule in rules.topics:
        have = person.topic_scores.get(rule.topic)
        if have is None or shown(have) < rule.min_score:
            assert f"you need {rule.min_score} in {rule.topic}" in lacks
    if rules.entry_score and (person.score is None or shown(person.score) < rules.entry_score):
        assert f"you need a Klout score of {rules.entry_score}" in lacks
    if rules.countries and person.country not in {p.code for p in rules.countries}:
        assert "this perk is for people in" in lacks
