"""Spark's scores (written by `scoring.spark.job`) back into the numpy engine's result objects.

No Django and no JVM: pyarrow reads the Parquet, numpy lines it up with the dense person index
(accounts by ascending id, as a local run has them), so what `manage.py import_scores` writes goes
through exactly the same row shaping, guard and publish code as a local run.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from scoring.engine.calibration import Calibration, calibrate
from scoring.engine.score import EngineResult, _network_contributions
from scoring.engine.styles import StyleTraits
from scoring.spark.window_io import read_table

COMPONENTS = {
    "reach": "reach",
    "volume": "volume",
    "network": "network",
    "amplification": "amplification_component",
    "hot": "hot",
}


@dataclass(frozen=True)
class ImportedScores:
    """One Spark output directory: the day (and the day before) as engine results."""

    meta: dict[str, Any]
    account_ids: npt.NDArray[np.int64]
    user_ids: npt.NDArray[np.int64]  # per dense index: linked user id, or -1
    post_ids: npt.NDArray[np.int64]
    today: EngineResult
    yesterday: EngineResult | None
    raw_unrounded: npt.NDArray[np.float64]  # today's raw before rounding (the parity test's)

    @property
    def calibration(self) -> Calibration:
        """The calibration the scores were made with."""
        return self.today.calibration

    @property
    def groups(self) -> dict[int, list[int]]:
        """User id -> dense indices of their linked accounts."""
        out: dict[int, list[int]] = {}
        for i in np.flatnonzero(self.user_ids >= 0).tolist():
            out.setdefault(int(self.user_ids[i]), []).append(i)
        return out


def read_meta(directory: Path) -> dict[str, Any]:
    """``scores.json`` of a Spark output directory (written last: its presence means complete)."""
    path = Path(directory) / "scores.json"
    if not path.exists():
        raise FileNotFoundError(f"{directory} holds no Spark scores (no scores.json)")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def read_scores(directory: Path) -> ImportedScores:
    """Load a Spark output directory written by `scoring.spark.job.run`."""
    directory = Path(directory)
    meta = read_meta(directory)
    accounts = read_table(directory / "accounts")
    ids = accounts.column("account_id").to_numpy().astype(np.int64)
    users = accounts.column("user_id").fill_null(-1).to_numpy().astype(np.int64)
    order = np.argsort(ids, kind="stable")
    ids, users = ids[order], users[order]
    calibration = Calibration.from_dict(meta["calibration"])
    today, raw_unrounded, post_ids = _result(
        directory / "today", ids, meta, float(meta["as_of"]), calibration
    )
    if not meta.get("calibration_stored"):
        # the version's first day: fit the calibration the way a local run does, on the same raw
        # scores (Spark's own fit adds its mean in another order and differs in the last bits)
        calibration = calibrate(today.raw, version=today.version)
        today = dataclasses.replace(
            today, calibration=calibration, score=calibration.apply(today.raw)
        )
    yesterday = None
    if meta.get("yesterday") and (directory / "yesterday").exists():
        yesterday, _, _ = _result(
            directory / "yesterday", ids, meta, float(meta["as_of"]) - 86400.0, calibration
        )
    return ImportedScores(
        meta=meta,
        account_ids=ids,
        user_ids=users,
        post_ids=post_ids,
        today=today,
        yesterday=yesterday,
        raw_unrounded=raw_unrounded,
    )


def _index(
    ids: npt.NDArray[np.int64], values: npt.NDArray[np.int64], what: str
) -> npt.NDArray[np.int64]:
    pos = np.searchsorted(ids, values)
    pos_c = np.minimum(pos, max(ids.shape[0] - 1, 0))
    if values.size and (ids.size == 0 or np.any(ids[pos_c] != values)):
        raise ValueError(f"{what} names accounts that are not in the window's accounts")
    return pos_c.astype(np.int64)


def _column(table: Any, name: str, order: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))[order]


def _result(
    directory: Path,
    ids: npt.NDArray[np.int64],
    meta: dict[str, Any],
    as_of: float,
    calibration: Calibration,
) -> tuple[EngineResult, npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    n = ids.shape[0]
    people = read_table(directory / "people")
    pid = people.column("account_id").to_numpy().astype(np.int64)
    if pid.shape[0] != n:
        raise ValueError(f"{directory}: {pid.shape[0]} people scored, the window has {n}")
    order = np.argsort(pid, kind="stable")
    if not np.array_equal(pid[order], ids):
        raise ValueError(f"{directory}: the people scored are not the window's accounts")

    def col(name: str) -> npt.NDArray[np.float64]:
        return _column(people, name, order).astype(np.float64)

    last = _column(people, "last_received", order)
    last_received = np.where(
        np.asarray([v is None or v != v for v in last.tolist()]), -np.inf, last
    ).astype(np.float64)

    traits = StyleTraits(
        creating=col("creating"),
        focused=col("focused"),
        participating=col("participating"),
        consistent=col("consistent"),
        code=_column(people, "style", order).astype(np.int8),
    )
    raw = col("raw")

    # per (receiver, network) counted actions -> columns in signed network code order
    per_net = read_table(directory / "per_network")
    nets = per_net.column("network").to_numpy().astype(np.int8)
    networks = np.unique(nets)
    per_network = np.zeros((n, networks.shape[0]), dtype=np.int64)
    if nets.size:
        rows = _index(ids, per_net.column("account_id").to_numpy().astype(np.int64), "per_network")
        cols = np.searchsorted(networks, nets)
        np.add.at(per_network, (rows, cols), per_net.column("actions").to_numpy().astype(np.int64))

    influence_t = read_table(directory / "influence")
    actor = _index(ids, influence_t.column("actor").to_numpy().astype(np.int64), "influence")
    receiver = _index(ids, influence_t.column("receiver").to_numpy().astype(np.int64), "influence")
    influence = sp.csr_array(
        (influence_t.column("weight").to_numpy().astype(np.float64), (actor, receiver)),
        shape=(n, n),
    )
    influence.sum_duplicates()

    posts = read_table(directory / "post_actions").sort_by("post_id")
    post_ids = posts.column("post_id").to_numpy().astype(np.int64)
    post_author = _index(ids, posts.column("author").to_numpy().astype(np.int64), "post_actions")
    post_actions = posts.column("actions").to_numpy().astype(np.float64)

    result = EngineResult(
        version=str(meta["version"]),
        as_of=as_of,
        calibration=calibration,
        raw=raw,
        score=calibration.apply(raw),
        true_reach=col("true_reach"),
        amplification=col("amplification"),
        network_score=col("network_score"),
        style=traits.code,
        traits=traits,
        network_contributions=_network_contributions(per_network, raw),
        networks=networks,
        components={name: col(column) for name, column in COMPONENTS.items()},
        last_received=last_received,
        actions_received=col("received"),
        influence=influence,
        post_author=post_author,
        post_actions=post_actions,
    )
    return result, col("raw_unrounded"), post_ids
