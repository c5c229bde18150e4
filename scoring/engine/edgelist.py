"""Stream SNAP-style temporal edge lists (plain or gzipped) into engine arrays.

Two formats are understood, line by line:

- SNAP temporal: ``src dst [weight] unixtime``; the receiver is ``dst``.
- Higgs activity: ``userA userB unixtime RT|MT|RE``; userA acted on userB.

Comment lines start with ``%`` or ``#``; blank lines are skipped. Lines that cannot be parsed are
collected as :class:`BadLine` (with their 1-based line numbers) instead of aborting the whole load.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from scoring.engine.types import Interactions, Kind

HIGGS_KINDS: dict[str, Kind] = {"RT": Kind.SHARE, "MT": Kind.MENTION, "RE": Kind.REPLY}


@dataclass(frozen=True)
class BadLine:
    """A line that could not be parsed, with its 1-based number and the reason."""

    line_number: int
    text: str
    reason: str


@dataclass(frozen=True)
class EdgeList:
    """A parsed temporal edge list: dense person indices plus the original labels."""

    actor: npt.NDArray[np.int32]
    receiver: npt.NDArray[np.int32]
    time: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]
    kind: npt.NDArray[np.int8]
    labels: list[str]
    bad_lines: list[BadLine]

    @property
    def n_people(self) -> int:
        """Number of distinct accounts seen in the file."""
        return len(self.labels)

    def __len__(self) -> int:
        return int(self.actor.shape[0])

    def interactions(self, mask: npt.NDArray[np.bool_] | None = None) -> Interactions:
        """The (optionally masked) rows as engine :class:`Interactions` (one row per event)."""
        sel = slice(None) if mask is None else mask
        actor = self.actor[sel]
        # a weighted row stands for `weight` events; expand integer weights so counts stay honest
        reps = np.maximum(np.rint(self.weight[sel]), 1).astype(np.int64)
        if np.any(reps != 1):
            actor = np.repeat(actor, reps)
            receiver = np.repeat(self.receiver[sel], reps)
            kind = np.repeat(self.kind[sel], reps)
            time = np.repeat(self.time[sel], reps)
        else:
            receiver, kind, time = self.receiver[sel], self.kind[sel], self.time[sel]
        n = actor.shape[0]
        return Interactions(
            actor=np.ascontiguousarray(actor, dtype=np.int32),
            receiver=np.ascontiguousarray(receiver, dtype=np.int32),
            kind=np.ascontiguousarray(kind, dtype=np.int8),
            time=np.ascontiguousarray(time, dtype=np.float64),
            post=np.full(n, -1, dtype=np.int64),
            network=np.zeros(n, dtype=np.int8),
            n_people=self.n_people,
        )


def open_text(path: str | Path) -> io.TextIOBase:
    """Open a plain or gzipped text file for reading (detected by magic bytes)."""
    p = Path(path)
    with p.open("rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8", errors="replace")
    return p.open("r", encoding="utf-8", errors="replace")


def iter_rows(
    lines: Iterator[str] | io.TextIOBase, bad: list[BadLine]
) -> Iterator[tuple[str, str, float, float, int]]:
    """Yield ``(src, dst, time, weight, kind)`` per parsable line; append failures to ``bad``."""
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line[0] in "%#":
            continue
        parts = line.split()
        try:
            if len(parts) == 4 and parts[3] in HIGGS_KINDS:
                yield parts[0], parts[1], float(parts[2]), 1.0, int(HIGGS_KINDS[parts[3]])
            elif len(parts) == 3:
                yield parts[0], parts[1], float(parts[2]), 1.0, int(Kind.MESSAGE)
            elif len(parts) == 4:
                weight = float(parts[2])
                if not weight >= 0:
                    raise ValueError(f"negative or NaN weight {parts[2]!r}")
                yield parts[0], parts[1], float(parts[3]), weight, int(Kind.MESSAGE)
            else:
                raise ValueError(f"expected 3 or 4 fields, got {len(parts)}")
        except ValueError as exc:
            bad.append(BadLine(number, line[:200], str(exc)))


def read_edgelist(path: str | Path, *, drop_self_loops: bool = False) -> EdgeList:
    """Parse a SNAP temporal edge list or Higgs activity file into dense arrays."""
    bad: list[BadLine] = []
    index: dict[str, int] = {}
    src: list[int] = []
    dst: list[int] = []
    times: list[float] = []
    weights: list[float] = []
    kinds: list[int] = []
    with open_text(path) as fh:
        for a, b, t, w, k in iter_rows(fh, bad):
            ia = index.setdefault(a, len(index))
            ib = index.setdefault(b, len(index))
            if drop_self_loops and ia == ib:
                continue
            src.append(ia)
            dst.append(ib)
            times.append(t)
            weights.append(w)
            kinds.append(k)
    labels = [""] * len(index)
    for label, i in index.items():
        labels[i] = label
    time_arr = np.asarray(times, dtype=np.float64)
    order = np.argsort(time_arr, kind="stable")
    return EdgeList(
        actor=np.asarray(src, dtype=np.int32)[order],
        receiver=np.asarray(dst, dtype=np.int32)[order],
        time=time_arr[order],
        weight=np.asarray(weights, dtype=np.float64)[order],
        kind=np.asarray(kinds, dtype=np.int8)[order],
        labels=labels,
        bad_lines=bad,
    )
