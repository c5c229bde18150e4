"""Explain a person's score change between two days as signed, worded drivers."""

from __future__ import annotations

import numpy as np

from scoring.engine.score import EngineResult
from scoring.engine.types import Driver, PersonRef, PostRef

_COMPONENT_TEXT = {
    "reach": ("more people acted on your content", "fewer people acted on your content recently"),
    "volume": ("your content drew more actions", "your content drew fewer actions"),
    "network": (
        "more influential people acted on you",
        "the people acting on you carry less weight now",
    ),
    "amplification": (
        "each of your posts drew more action",
        "your posts drew less action each",
    ),
    "hot": (
        "people are acting on you right now",
        "the latest burst of action on your content is cooling off",
    ),
}


def explain_change(prev: EngineResult, cur: EngineResult, person: int) -> list[Driver]:
    """The drivers of ``person``'s score change from ``prev`` to ``cur``, biggest first."""
    p0, p1 = float(prev.score[person]), float(cur.score[person])
    total = p1 - p0
    cal = cur.calibration
    drivers: list[Driver] = []
    if prev.version != cur.version:
        return [Driver(round(total, 1), f"new algorithm version {cur.version}", "version")]
    # attribute the change to components by walking from the previous raw one component at a time
    raw = float(prev.raw[person])
    base = float(cal.apply(np.array([raw]))[0])
    deltas: list[tuple[str, float]] = []
    for name in ("reach", "volume", "network", "amplification", "hot"):
        d = float(cur.components[name][person] - prev.components[name][person])
        raw += d
        now = float(cal.apply(np.array([raw]))[0])
        deltas.append((name, now - base))
        base = now
    new_reactors = _new_reactors(prev, cur, person)
    days_quiet = (cur.as_of - float(cur.last_received[person])) / 86400.0
    for name, pts in deltas:
        if abs(pts) < 0.05:
            continue
        up, down = _COMPONENT_TEXT[name]
        if name == "reach" and pts > 0 and new_reactors:
            text = f"{new_reactors} new {'person' if new_reactors == 1 else 'people'} acted on you"
        elif name == "reach" and pts < 0 and np.isfinite(days_quiet) and days_quiet >= 1:
            text = f"decay, no new actions for {int(days_quiet)} days"
        elif name == "reach" and pts < 0 and not np.isfinite(days_quiet):
            text = "decay, nothing of yours was acted on in the window"
        else:
            text = up if pts > 0 else down
        drivers.append(Driver(round(pts, 1), f"{pts:+.1f}: {text}", name))
    top = cur.top_influencees(person, 1)
    if top and total > 0:
        who, _weight = top[0]
        drivers.append(Driver(0.0, "your strongest reactor", "person", PersonRef(int(who))))
    moments = cur.moments(person, 1)
    if moments and total > 0:
        post, actions = moments[0]
        text = f"your post drove {int(actions)} actions"
        drivers.append(Driver(0.0, text, "post", PostRef(int(post), int(actions))))
    residual = total - sum(d.points for d in drivers)
    if abs(residual) >= 0.05 and not drivers:
        drivers.append(Driver(round(residual, 1), f"{residual:+.1f}: rounding", "other"))
    drivers.sort(key=lambda d: (-abs(d.points), d.kind))
    return drivers


def _new_reactors(prev: EngineResult, cur: EngineResult, person: int) -> int:
    """People acting on ``person`` in ``cur`` who did not in ``prev``."""
    before = set(prev.influence[:, [person]].tocoo().row.tolist())
    after = set(cur.influence[:, [person]].tocoo().row.tolist())
    return len(after - before)
