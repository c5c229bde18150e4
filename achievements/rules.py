"""Achievement rules: declarative, pure (no Django), evaluated for a whole population at once.

A rule reads one figure per person (a plain number the scoring run or the caller provides: unique
mentioners, distinct sharers of one post, +K received on one topic, ...) and turns it into a level,
0 (none), 1 bronze, 2 silver or 3 gold, plus the progress towards the next level ("73/100 people").

Figures arrive as columns (`Mapping[str, numpy array]`, one entry per person), so evaluating every
rule for a million people is a handful of vectorised comparisons. A figure a caller cannot supply
yet (e.g. +K before it exists) is simply all zeros: its rules then unlock nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

LEVELS: tuple[str, ...] = ("bronze", "silver", "gold")
LEVEL_NAMES: dict[int, str] = {0: "none", 1: "bronze", 2: "silver", 3: "gold"}

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Rule:
    """One achievement: which figure it reads and the bronze, silver and gold thresholds.

    `better="higher"`: a level is reached when the figure is at least its threshold (ascending
    thresholds). `better="lower"`: reached when the figure is positive and at most its threshold
    (descending thresholds), e.g. "one of the first 1,000 members" with the member number.
    """

    key: str
    name: str
    description: str  # says what gold takes, e.g. "Mentioned by 100 unique people"
    figure: str
    thresholds: tuple[int, int, int]
    unit: str
    better: Literal["higher", "lower"] = "higher"

    def __post_init__(self) -> None:
        a, b, c = self.thresholds
        ordered = a < b < c if self.better == "higher" else a > b > c > 0
        if not ordered:
            raise ValueError(f"{self.key}: thresholds {self.thresholds} are not in level order")

    def level(self, value: int) -> int:
        """The level (0-3) a person with this figure holds."""
        return int(self.levels(np.asarray([value], dtype=np.int64))[0])

    def levels(self, values: IntArray) -> npt.NDArray[np.int8]:
        """The level (0-3) of every person, from one figure column."""
        values = np.asarray(values, dtype=np.int64)
        out = np.zeros(values.shape[0], dtype=np.int8)
        for threshold in self.thresholds:
            if self.better == "higher":
                out += values >= threshold
            else:
                out += (values > 0) & (values <= threshold)
        return out

    def progress(self, value: int, held: int = 0) -> Progress:
        """Where a person stands: level held, the next target and a sentence with the numbers.

        `held` is a level already unlocked: a figure that later falls (mentions leaving the
        window) never takes a level back.
        """
        level = max(self.level(value), held)
        target = self.thresholds[min(level, 2)]
        if self.better == "higher":
            shown = min(value, target)
            fraction = 1.0 if level == 3 else max(0.0, min(1.0, value / target))
            text = f"{shown:,}/{target:,} {self.unit}"
        else:
            fraction = 1.0 if level == 3 else (target / value if value > 0 else 0.0)
            text = f"#{value:,} (the first {target:,} {self.unit})" if value > 0 else "not ranked"
        return Progress(
            rule=self, level=level, value=value, target=target, fraction=fraction, text=text
        )


@dataclass(frozen=True)
class Progress:
    """One person's standing on one rule."""

    rule: Rule
    level: int  # 0..3
    value: int
    target: int  # the next level's threshold (gold's once gold is held)
    fraction: float  # 0..1 towards the next level (1 once gold is held)
    text: str  # "73/100 people"

    @property
    def level_name(self) -> str:
        """ "bronze", "silver", "gold" or "none"."""
        return LEVEL_NAMES[self.level]

    @property
    def next_level_name(self) -> str | None:
        """The level being worked towards, or None once gold is held."""
        return LEVEL_NAMES[self.level + 1] if self.level < 3 else None


RULES: tuple[Rule, ...] = (
    Rule(
        key="mentioned",
        name="Talk of the town",
        description="Mentioned by 100 unique people",
        figure="mentioners",
        thresholds=(10, 50, 100),
        unit="people",
    ),
    Rule(
        key="shared_message",
        name="Passed around",
        description="One message shared by 25 different people",
        figure="top_post_sharers",
        thresholds=(5, 10, 25),
        unit="sharers",
    ),
    Rule(
        key="mentioners_day",
        name="Buzzing",
        description="50 unique mentioners in one day",
        figure="mentioners_one_day",
        thresholds=(10, 25, 50),
        unit="mentioners",
    ),
    Rule(
        key="messages_shared",
        name="Worth repeating",
        description="25 of your messages shared",
        figure="posts_shared",
        thresholds=(5, 10, 25),
        unit="messages",
    ),
    Rule(
        key="plus_k_given",
        name="Generous",
        description="Give +K (gold after 50)",
        figure="plus_k_given",
        thresholds=(1, 10, 50),
        unit="+K given",
    ),
    Rule(
        key="plus_k_topic",
        name="Recognised expert",
        description="10 +K received on one topic",
        figure="plus_k_topic_max",
        thresholds=(3, 5, 10),
        unit="+K on one topic",
    ),
    Rule(
        key="score",
        name="Rising",
        description="Reach a score of 50, 60 and 70",
        figure="score",
        thresholds=(50, 60, 70),
        unit="points",
    ),
    Rule(
        key="networks",
        name="Connected",
        description="Three networks linked",
        figure="networks_linked",
        thresholds=(1, 2, 3),
        unit="networks",
    ),
    Rule(
        key="topic_top",
        name="Top voice",
        description="In the top 5% of a topic",
        figure="topic_percentile",
        thresholds=(75, 90, 95),
        unit="percentile",
    ),
    Rule(
        key="moment",
        name="Big moment",
        description="A moment with 100 reactions",
        figure="top_moment_reactions",
        thresholds=(10, 50, 100),
        unit="reactions",
    ),
    Rule(
        key="early_member",
        name="Early member",
        description="One of our first 1,000 members",
        figure="member_number",
        thresholds=(100_000, 10_000, 1_000),
        unit="members",
        better="lower",
    ),
)

RULES_BY_KEY: dict[str, Rule] = {rule.key: rule for rule in RULES}
FIGURES: tuple[str, ...] = tuple(dict.fromkeys(rule.figure for rule in RULES))


def evaluate(figures: Mapping[str, npt.ArrayLike], n: int) -> npt.NDArray[np.int8]:
    """Levels of every person on every rule: an (n, len(RULES)) array of 0-3.

    A figure missing from `figures` counts as zero for everyone (its rules unlock nothing).
    """
    out = np.zeros((n, len(RULES)), dtype=np.int8)
    for column, rule in enumerate(RULES):
        values = figures.get(rule.figure)
        if values is None:
            continue
        array = np.asarray(values, dtype=np.int64)
        if array.shape != (n,):
            raise ValueError(f"figure {rule.figure}: expected {n} values, got {array.shape}")
        out[:, column] = rule.levels(array)
    return out


def progress_for(
    figures: Mapping[str, int], held: Mapping[str, int] | None = None
) -> list[Progress]:
    """One person's progress on every rule, in rule order (missing figures count as zero)."""
    held = held or {}
    return [
        rule.progress(int(figures.get(rule.figure, 0)), held.get(rule.key, 0)) for rule in RULES
    ]
