"""Algorithm versions: every published score names the version (and parameters) that made it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

DAY = 86400.0


@dataclass(frozen=True)
class Algorithm:
    """A named, frozen set of model parameters; a new version starts a new score series.

    The database's `scoring.models.AlgorithmVersion` row records one by name (with its calibration).
    """

    name: str
    window_days: float = 90.0
    # reach counts distinct (reactor, time bucket) pairs, so sustained reach beats one burst
    bucket_seconds: float = 6 * 3600.0
    half_life_days: float = 30.0
    # raw is rounded to this many log units: differences below it are noise, not influence
    resolution: float = 0.1
    # a reactor acting on more than this many people in the window is down-weighted (bots)
    selective_limit: int = 50
    # mutual pairs between peers (reactor at least as reached as the receiver) count this much
    reciprocal_weight: float = 0.25
    # ... and only for receivers whose reactors are at least this share mutual partners
    ring_share: float = 0.8
    ring_min: int = 5
    # bonus on actions beyond distinct reach, only for accounts with at least `volume_min_reach`
    volume_weight: float = 0.5
    volume_min_reach: float = 3.0
    # network: a reactor counts up to (1 + network_weight) times, by its own reach
    # (log1p(reach) / (log1p(reach) + network_scale)), propagated network_rounds times
    network_weight: float = 0.0
    network_scale: float = 2.0
    network_rounds: int = 2
    # weight of amplification (actions per post) when posts are known
    amplification_weight: float = 0.5
    # "hot right now": hot_weight * log1p(actions received, decayed with this half-life, weighted
    # like reach), for accounts with at least `volume_min_reach` reach; ages are taken at the
    # middle of `hot_bucket_seconds` buckets (a divisor of bucket_seconds)
    hot_weight: float = 0.0
    hot_half_life_seconds: float = 3 * 3600.0
    hot_bucket_seconds: float = 3600.0
    # being acted on at all is evidence: an account with any weighted reach is at least one
    # resolution step above nothing, and one only ever acted on by itself sits at this share of a
    # step (a weak prior that never outranks a single real reactor); 0 turns both off
    self_credit: float = 0.0
    # a back-scratching peer's repeats add no volume and its chatter is never "hot" (a ring
    # reacting to itself all day must not pass for organic action)
    scratching_counts_once: bool = False
    # a mutual pair is back-scratching only when both sides sit in closed circles (each has at
    # least ring_min mutual partners making at least ring_share of its reactors): every member
    # of a sock-puppet ring does, whatever its shape, while a genuine conversation partner also
    # hears from people it does not answer, so messaging back and forth is not discounted
    ring_both_closed: bool = False

    def to_dict(self) -> dict[str, object]:
        """Plain dict of the parameters (stored with every scoring run)."""
        return asdict(self)


VERSIONS: dict[str, Algorithm] = {
    # 2026.1: no network term (published series stay as they were)
    "klout-2026.1": Algorithm(name="klout-2026.1"),
    # 2026.2: reactors weigh by their own standing (spec properties 5 and 6 in the raw score)
    "klout-2026.2": Algorithm(name="klout-2026.2", network_weight=0.1),
    # 2026.3: who is hot right now (recent actions, 3 h half-life) and a floor for being acted on
    "klout-2026.3": Algorithm(
        name="klout-2026.3",
        network_weight=0.1,
        hot_weight=0.5,
        self_credit=0.4,
        scratching_counts_once=True,
    ),
    # 2026.4: back-scratching is a mutual pair inside a closed circle on both sides (genuine
    # two-way conversation is no longer discounted as back-scratching)
    "klout-2026.4": Algorithm(
        name="klout-2026.4",
        network_weight=0.1,
        hot_weight=0.5,
        self_credit=0.4,
        scratching_counts_once=True,
        ring_both_closed=True,
    ),
}
LATEST = "klout-2026.4"


def get_version(name: str | Algorithm) -> Algorithm:
    """Look up a registered algorithm version by name (an Algorithm passes through)."""
    if isinstance(name, Algorithm):
        return name
    try:
        return VERSIONS[name]
    except KeyError:
        raise KeyError(f"unknown algorithm version {name!r}; known: {sorted(VERSIONS)}") from None
