"""Back-scratching (spec property 10) vs. genuine two-way conversation (klout-2026.4)."""

from __future__ import annotations

import numpy as np

from scoring.engine import Calibration, Interactions, score_window
from scoring.engine.registry import LATEST

DAY = 86400.0
NOW = 1_700_000_000.0
FIXED = Calibration(version=LATEST, k=0.1, mean_active_raw=2.0)


def build(edges: list[tuple[int, int]], n: int) -> Interactions:
    a = [e[0] for e in edges]
    r = [e[1] for e in edges]
    return Interactions.from_arrays(a, r, [NOW - DAY] * len(edges), n_people=n)


def conversation_and_control() -> tuple[Interactions, int, int]:
    """Person 0 talks back and forth with 6 partners, each of whom also hears from 6 fans it
    never answers; person 50 is acted on one way by 6 equally reached people. Same reach."""
    edges: list[tuple[int, int]] = []
    fan = 100
    for k in range(1, 7):
        edges += [(0, k), (k, 0)]
        edges += [(fan + f, k) for f in range(6)]
        fan += 6
    control = 50
    for k in range(51, 57):
        edges.append((k, control))
        edges += [(fan + f, k) for f in range(7)]
        fan += 7
    return build(edges, fan), 0, control


def test_genuine_conversation_is_not_discounted_as_back_scratching() -> None:
    inter, talker, control = conversation_and_control()
    latest = score_window(inter, None, as_of=NOW, calibration=FIXED)
    assert latest.components["reach"][talker] == latest.components["reach"][control]
    assert latest.raw[talker] == latest.raw[control]


def test_klout_2026_3_still_discounts_the_same_conversation() -> None:
    # published series are never rewritten: the older version keeps its (harsher) rule
    inter, talker, control = conversation_and_control()
    old = score_window(inter, None, as_of=NOW, version="klout-2026.3")
    assert old.components["reach"][talker] < old.components["reach"][control]


def test_a_ring_without_triangles_is_still_discounted() -> None:
    # two groups of 10 puppets, everyone in one group scratching everyone in the other (no two
    # partners of a puppet talk to each other), each puppet with one outside fan; vs. a genuine
    # account with 10 independent fans
    left, right = range(10), range(10, 20)
    edges = [(x, y) for x in left for y in right] + [(y, x) for x in left for y in right]
    edges += [(20 + i, i) for i in range(20)]
    genuine = 40
    edges += [(41 + k, genuine) for k in range(10)]
    result = score_window(build(edges, 51), None, as_of=NOW, calibration=FIXED)
    ring = np.arange(20)
    assert result.score[genuine] > result.score[ring].max()
    # each puppet has 11 reactors (10 partners and a fan), yet less reach than 10 independent fans
    assert (result.components["reach"][ring] < result.components["reach"][genuine]).all()
