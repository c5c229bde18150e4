"""Klout's 16 influencer styles from four measurable trait axes, each with a reason.

Axes (each a share in [0, 1]; above one half means the second pole):

- Sharing <-> Creating: original posts vs reshares (shares/quotes of others' content).
- Broad <-> Focused: topic breadth if known, else how spread one's actions are over people.
- Listening <-> Participating: replies, comments, mentions and messages vs silent reactions and
  broadcasts.
- Casual <-> Consistent: share of weeks in the window with any activity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scoring.engine.types import Kind, Posts

FloatArray = npt.NDArray[np.float64]

STYLES: list[str] = [
    "Curator",
    "Broadcaster",
    "Taste Maker",
    "Celebrity",
    "Syndicator",
    "Feeder",
    "Thought Leader",
    "Pundit",
    "Dabbler",
    "Conversationalist",
    "Socializer",
    "Networker",
    "Observer",
    "Explorer",
    "Activist",
    "Specialist",
]

# (creating, focused, participating, consistent) -> style name
_GRID: dict[tuple[bool, bool, bool, bool], str] = {
    (False, False, False, False): "Observer",
    (False, False, False, True): "Curator",
    (False, False, True, False): "Dabbler",
    (False, False, True, True): "Socializer",
    (False, True, False, False): "Explorer",
    (False, True, False, True): "Syndicator",
    (False, True, True, False): "Activist",
    (False, True, True, True): "Feeder",
    (True, False, False, False): "Taste Maker",
    (True, False, False, True): "Broadcaster",
    (True, False, True, False): "Conversationalist",
    (True, False, True, True): "Networker",
    (True, True, False, False): "Specialist",
    (True, True, False, True): "Thought Leader",
    (True, True, True, False): "Pundit",
    (True, True, True, True): "Celebrity",
}
_CODE = {name: i for i, name in enumerate(STYLES)}
PARTICIPATING_KINDS = (Kind.REPLY, Kind.COMMENT, Kind.MENTION, Kind.MESSAGE, Kind.QUOTE)
SHARING_KINDS = (Kind.SHARE, Kind.QUOTE)
WEEK = 7 * 86400.0
N_WEEKS = 13


@dataclass(frozen=True)
class StyleTraits:
    """Per-person trait shares on the four axes and the resulting style code."""

    creating: FloatArray
    focused: FloatArray
    participating: FloatArray
    consistent: FloatArray
    code: npt.NDArray[np.int8]


def style_for(creating: bool, focused: bool, participating: bool, consistent: bool) -> str:
    """The style name for a combination of trait poles."""
    return _GRID[(creating, focused, participating, consistent)]


@dataclass(frozen=True)
class Activity:
    """Per-person counts of one's own actions in the window (self-reactions included)."""

    acts: FloatArray  # actions taken
    shares: FloatArray  # of which reshares/quotes
    talk: FloatArray  # of which replies, comments, mentions, messages, quotes
    distinct_targets: FloatArray  # distinct people acted on
    week_flags: npt.NDArray[np.bool_]  # n x 13: any action in week w before as_of (0 = newest)


def style_traits(activity: Activity, posts: Posts | None, as_of: float, n: int) -> StyleTraits:
    """Measure the four axes for everyone from their own actions and posts in the window."""
    acts, shares, talk = activity.acts, activity.shares, activity.talk
    originals = np.zeros(n)
    replies = np.zeros(n)
    breadth: FloatArray | None = None
    weeks_flags = activity.week_flags
    if posts is not None and len(posts):
        pa = posts.author.astype(np.int64)
        is_share = posts.is_share if posts.is_share is not None else np.zeros(len(posts), bool)
        originals = np.bincount(pa[~is_share], minlength=n).astype(np.float64)
        if posts.is_reply is not None:
            replies = np.bincount(pa[posts.is_reply], minlength=n).astype(np.float64)
        if posts.topic_breadth is not None:
            # posts without topics (NaN) say nothing about breadth
            known = ~np.isnan(posts.topic_breadth)
            tb_sum = np.bincount(pa[known], weights=posts.topic_breadth[known], minlength=n)
            tb_n = np.bincount(pa[known], minlength=n)
            breadth = np.divide(tb_sum, tb_n, out=np.full(n, np.nan), where=tb_n > 0)
        weeks_flags = weeks_flags.copy()
        weeks_flags[pa, _week_of(posts.time, as_of)] = True
    creating = np.divide(
        originals, originals + shares, out=np.zeros(n), where=originals + shares > 0
    )
    broadcasts = originals - replies
    participating = np.divide(
        talk + replies, acts + originals, out=np.zeros(n), where=acts + originals > 0
    )
    participating = np.where(broadcasts > acts, participating * 0.5, participating)
    # acting on few people again and again is focused; spreading over many is broad
    focused = np.divide(acts - activity.distinct_targets, acts, out=np.zeros(n), where=acts > 0)
    if breadth is not None:
        # topic breadth where a person's posts have topics; the fallback above elsewhere
        focused = np.where(np.isnan(breadth), focused, 1.0 - np.clip(breadth, 0.0, 1.0))
    # consistency: share of the last 13 weeks with any activity
    consistent = weeks_flags.sum(axis=1, dtype=np.float64) / 13.0
    code = np.zeros(n, dtype=np.int8)
    cr, fo, pa_, co = creating >= 0.5, focused >= 0.5, participating >= 0.5, consistent >= 0.5
    for key, name in _GRID.items():
        m = (cr == key[0]) & (fo == key[1]) & (pa_ == key[2]) & (co == key[3])
        code[m] = _CODE[name]
    return StyleTraits(creating, focused, participating, consistent, code)


def _week_of(time: FloatArray, as_of: float) -> npt.NDArray[np.int64]:
    """Week index before ``as_of`` (0 = the last 7 days), clipped to the 13-week grid."""
    return np.clip(((as_of - time) // WEEK).astype(np.int64), 0, N_WEEKS - 1)


def style_reason(traits: StyleTraits, person: int) -> str:
    """A sentence saying why ``person`` has their style."""
    c = traits.creating[person]
    f = traits.focused[person]
    p = traits.participating[person]
    k = traits.consistent[person]
    name = STYLES[int(traits.code[person])]
    parts = [
        f"{c:.0%} of what you put out is original"
        if c >= 0.5
        else f"you mostly share others' content ({1 - c:.0%} reshares)",
        "you stay with a few people and subjects"
        if f >= 0.5
        else "you spread your attention widely",
        f"{p:.0%} of your activity is conversation"
        if p >= 0.5
        else "you mostly listen and broadcast rather than reply",
        f"you were active in {round(k * 13)} of the last 13 weeks"
        if k >= 0.5
        else f"you were active in only {round(k * 13)} of the last 13 weeks",
    ]
    return f"{name}: " + "; ".join(parts) + "."
