"""Pure eligibility rules for perk campaigns (no Django).

A campaign's `Rules` and a person's `Person` facts go in; a `Verdict` comes out: whether the person
qualifies, which score tier (and so which reward) is theirs, and one plain sentence for everything
they lack ("you need 40 in Travel (you have 31)", "this perk is for people in Canada").

Scores compare as people see them: rounded to a whole number, the way the dashboard shows them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Place:
    """A country (ISO 3166-1 alpha-2 code and its name) for targeting and sentences."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class TopicRule:
    """A topic the person must be known for, with the topic score they need (1-100)."""

    topic: str
    min_score: int


@dataclass(frozen=True, slots=True)
class Tier:
    """A score tier: people scoring at least `min_score` (up to the next tier) get `reward`."""

    name: str
    min_score: int
    reward: str


@dataclass(frozen=True, slots=True)
class Rules:
    """Who a campaign is for. Empty collections and zero minimums mean "anyone"."""

    min_score: int = 0
    topics: tuple[TopicRule, ...] = ()
    countries: tuple[Place, ...] = ()
    regions: tuple[str, ...] = ()  # regions or cities; case and spacing do not matter
    networks: tuple[str, ...] = ()  # network labels; linking any one of them is enough
    min_account_age_days: int = 0
    tiers: tuple[Tier, ...] = ()

    def tier_for(self, score: int) -> Tier | None:
        """The highest tier whose minimum the score reaches (None without tiers or below all)."""
        reached = [tier for tier in self.tiers if score >= tier.min_score]
        return max(reached, key=lambda tier: tier.min_score, default=None)

    @property
    def entry_score(self) -> int:
        """The lowest score that can qualify: the minimum score, or the lowest tier's if higher."""
        lowest_tier = min((tier.min_score for tier in self.tiers), default=0)
        return max(self.min_score, lowest_tier)


@dataclass(frozen=True, slots=True)
class Person:
    """What eligibility needs to know about a person; plain values, read elsewhere."""

    score: float | None  # latest published score, None when not scored yet
    topic_scores: Mapping[str, float] = field(default_factory=dict)
    country: str = ""  # ISO code, "" when the person has not said
    region: str = ""
    networks: frozenset[str] = frozenset()  # labels of linked networks
    joined: dt.date | None = None  # when the person's Klout account was created


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer: eligible or not, the tier that applies, and what the person lacks."""

    lacks: tuple[str, ...]
    tier: Tier | None

    @property
    def eligible(self) -> bool:
        return not self.lacks


def shown(score: float) -> int:
    """A score as people see it (half rounds up, unlike Python's banker's rounding)."""
    return int(score + 0.5)


def normalise_region(value: str) -> str:
    """Regions compare without case or extra spaces: " new  York" matches "New York"."""
    return " ".join(value.split()).casefold()


def _either(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def check(rules: Rules, person: Person, *, today: dt.date) -> Verdict:
    """Whether `person` qualifies for a campaign with `rules` on `today`, and what they lack."""
    lacks: list[str] = []
    score = shown(person.score) if person.score is not None else None
    entry = rules.entry_score
    if entry > 0:
        if score is None:
            lacks.append(f"you need a Klout score of {entry} (you have no score yet)")
        elif score < entry:
            lacks.append(f"you need a Klout score of {entry} (you have {score})")
    for rule in rules.topics:
        have = person.topic_scores.get(rule.topic)
        if have is None:
            lacks.append(f"you need {rule.min_score} in {rule.topic} (you have no score in it)")
        elif shown(have) < rule.min_score:
            lacks.append(f"you need {rule.min_score} in {rule.topic} (you have {shown(have)})")
    if rules.countries:
        codes = {place.code.upper() for place in rules.countries}
        where = _either([place.name for place in rules.countries])
        if not person.country:
            lacks.append(f"this perk is for people in {where}: set your country in settings")
        elif person.country.upper() not in codes:
            lacks.append(f"this perk is for people in {where}")
    if rules.regions:
        wanted = {normalise_region(region) for region in rules.regions}
        if normalise_region(person.region) not in wanted:
            where = _either(list(rules.regions))
            if not person.region:
                lacks.append(f"this perk is for people in {where}: set your region in settings")
            else:
                lacks.append(f"this perk is for people in {where}")
    if rules.networks and not person.networks & set(rules.networks):
        lacks.append(f"link a {_either(list(rules.networks))} account")
    if rules.min_account_age_days > 0:
        age = (today - person.joined).days if person.joined is not None else 0
        if age < rules.min_account_age_days:
            lacks.append(
                f"your Klout account must be {rules.min_account_age_days} days old "
                f"(it is {max(age, 0)} {'day' if age == 1 else 'days'} old)"
            )
    tier = rules.tier_for(score) if score is not None else None
    return Verdict(lacks=tuple(lacks), tier=tier if not lacks else None)
