"""Plain data the engine takes in and gives back: frozen dataclasses over numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Kind(IntEnum):
    """What an actor did to a receiver's content."""

    SHARE = 0
    REPLY = 1
    MENTION = 2
    LIKE = 3
    COMMENT = 4
    QUOTE = 5
    FOLLOW = 6
    MESSAGE = 7


@dataclass(frozen=True)
class Interactions:
    """One row per interaction in the window; all arrays have equal length."""

    actor: npt.NDArray[np.int32]
    receiver: npt.NDArray[np.int32]
    kind: npt.NDArray[np.int8]
    time: npt.NDArray[np.float64]
    post: npt.NDArray[np.int64]
    network: npt.NDArray[np.int8]
    n_people: int

    def __len__(self) -> int:
        return int(self.actor.shape[0])

    def __post_init__(self) -> None:
        n = self.actor.shape[0]
        for name in ("receiver", "kind", "time", "post", "network"):
            if getattr(self, name).shape[0] != n:
                raise ValueError(
                    f"Interactions.{name} has {getattr(self, name).shape[0]} rows, not {n}"
                )
        if n and (
            int(self.actor.max()) >= self.n_people or int(self.receiver.max()) >= self.n_people
        ):
            raise ValueError("person index out of range for n_people")
        if n and (int(self.actor.min()) < 0 or int(self.receiver.min()) < 0):
            raise ValueError("negative person index")

    @classmethod
    def from_arrays(
        cls,
        actor: npt.ArrayLike,
        receiver: npt.ArrayLike,
        time: npt.ArrayLike,
        *,
        n_people: int | None = None,
        kind: npt.ArrayLike | None = None,
        post: npt.ArrayLike | None = None,
        network: npt.ArrayLike | None = None,
    ) -> Interactions:
        """Build Interactions from array-likes, filling kind/post/network with defaults."""
        a = np.asarray(actor, dtype=np.int32).ravel()
        r = np.asarray(receiver, dtype=np.int32).ravel()
        n = a.shape[0]
        if n_people is None:
            n_people = int(max(a.max(initial=-1), r.max(initial=-1)) + 1)
        return cls(
            actor=a,
            receiver=r,
            kind=(
                np.full(n, Kind.SHARE, dtype=np.int8)
                if kind is None
                else np.asarray(kind, dtype=np.int8).ravel()
            ),
            time=np.broadcast_to(np.asarray(time, dtype=np.float64), (n,)).copy(),
            post=(
                np.full(n, -1, dtype=np.int64)
                if post is None
                else np.asarray(post, dtype=np.int64).ravel()
            ),
            network=(
                np.zeros(n, dtype=np.int8)
                if network is None
                else np.asarray(network, dtype=np.int8).ravel()
            ),
            n_people=n_people,
        )

    def select(self, mask: npt.NDArray[np.bool_]) -> Interactions:
        """The rows where ``mask`` is true."""
        return Interactions(
            actor=self.actor[mask],
            receiver=self.receiver[mask],
            kind=self.kind[mask],
            time=self.time[mask],
            post=self.post[mask],
            network=self.network[mask],
            n_people=self.n_people,
        )


@dataclass(frozen=True)
class Posts:
    """Posts authored in the window; the array index is the dense post index."""

    author: npt.NDArray[np.int32]
    time: npt.NDArray[np.float64]
    network: npt.NDArray[np.int8]
    topic_breadth: npt.NDArray[np.float64] | None = None
    is_share: npt.NDArray[np.bool_] | None = None  # reshare of someone else's post (vs original)
    is_reply: npt.NDArray[np.bool_] | None = None  # reply in a conversation (vs broadcast)

    def __len__(self) -> int:
        return int(self.author.shape[0])

    @classmethod
    def empty(cls) -> Posts:
        """No posts (the engine then works from interactions alone)."""
        return cls(
            author=np.zeros(0, dtype=np.int32),
            time=np.zeros(0, dtype=np.float64),
            network=np.zeros(0, dtype=np.int8),
        )


@dataclass(frozen=True)
class PersonRef:
    """A person a driver is about, by dense person index (the caller knows who that is)."""

    person: int


@dataclass(frozen=True)
class PostRef:
    """A post a driver is about, by index into the engine's posts, and the actions it drew."""

    post: int
    actions: int


@dataclass(frozen=True)
class Driver:
    """One reason a score moved between two days: signed points and a sentence.

    The sentence never names anyone: a driver about a person or a post carries a typed reference
    (`about`) that the caller turns into a name, if it may show one.
    """

    points: float
    text: str
    kind: str
    about: PersonRef | PostRef | None = None


@dataclass(frozen=True)
class PersonResult:
    """Everything the engine says about one person on one day."""

    person: int
    raw: float
    score: float
    true_reach: float
    amplification: float
    network_score: float
    style: str
    style_reason: str
    network_contributions: dict[int, float]
    components: dict[str, float] = field(default_factory=dict)

    @property
    def bucket(self) -> str:
        """Decile bucket label such as "10-19" (100 sits in "90-100")."""
        shown = round(self.score)
        lo = min(90, (shown // 10) * 10)
        return f"{lo}-{lo + 9}" if lo < 90 else "90-100"
