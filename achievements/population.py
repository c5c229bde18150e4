"""Everyone's rule inputs for one published run, read in a fixed handful of bulk queries.

The figures the scoring run computed (`scoring.PersonFigures`), each person's score in the run,
their linked networks and their member number become one numpy column per figure, aligned with a
sorted array of user ids, which is what `achievements.rules.evaluate` takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.contrib.auth import get_user_model
from django.db import connection

from achievements.rules import FIGURES
from networks.models import NetworkAccount
from scoring.models import DailyScore, PersonFigures

IntArray = npt.NDArray[np.int64]

# Figures copied as they are from the scoring run's PersonFigures.
RUN_FIGURES = (
    "mentioners",
    "mentioners_one_day",
    "top_post_sharers",
    "posts_shared",
    "top_moment_reactions",
)
# +K and topics come from another slice; until they exist these are zero for everyone, so their
# rules (first +K given, 10 +K on one topic, top 5% of a topic) unlock nothing.
PENDING_FIGURES = ("plus_k_given", "plus_k_topic_max", "topic_percentile")


@dataclass(frozen=True)
class Population:
    """Every evaluated person's figures as columns aligned with `user_ids` (sorted)."""

    user_ids: IntArray
    figures: dict[str, IntArray]

    def __len__(self) -> int:
        return int(self.user_ids.shape[0])

    def of(self, user_id: int) -> dict[str, int]:
        """One person's figures (all zeros when they are not in the population)."""
        i = int(np.searchsorted(self.user_ids, user_id))
        if i >= len(self) or int(self.user_ids[i]) != user_id:
            return dict.fromkeys(FIGURES, 0)
        return {name: int(column[i]) for name, column in self.figures.items()}


def load_population(*, run_id: int | None, user_ids: Sequence[int] | None = None) -> Population:
    """Active, not opted-out people (or just `user_ids`) with their figures from `run_id`."""
    user_table = get_user_model()._meta.db_table
    everyone = _columns(f"SELECT id, is_active, opted_out FROM {user_table} ORDER BY id", [], 3)
    all_ids, active, opted_out = everyone
    keep = (active == 1) & (opted_out == 0)
    if user_ids is not None:
        keep &= np.isin(all_ids, np.asarray(list(user_ids), dtype=np.int64))
    ids = all_ids[keep]
    figures: dict[str, IntArray] = {name: np.zeros(ids.shape[0], np.int64) for name in FIGURES}
    figures["member_number"] = (np.flatnonzero(keep) + 1).astype(np.int64)

    if run_id is not None:
        table = PersonFigures._meta.db_table
        names = ", ".join(RUN_FIGURES)
        cols = _columns(
            f"SELECT user_id, {names} FROM {table} WHERE run_id = %s",
            [run_id],
            1 + len(RUN_FIGURES),
        )
        for name, column in zip(RUN_FIGURES, cols[1:], strict=True):
            _place(figures[name], ids, cols[0], column)
        score_table = DailyScore._meta.db_table
        uid, score = _columns(
            f"SELECT user_id, score FROM {score_table} WHERE run_id = %s AND user_id IS NOT NULL",
            [run_id],
            2,
            dtype=np.float64,
        )
        _place(figures["score"], ids, uid.astype(np.int64), np.rint(score).astype(np.int64))

    account_table = NetworkAccount._meta.db_table
    uid, networks = _columns(
        f"SELECT user_id, COUNT(DISTINCT network) FROM {account_table} "
        "WHERE user_id IS NOT NULL AND NOT protected AND NOT opted_out GROUP BY user_id",
        [],
        2,
    )
    _place(figures["networks_linked"], ids, uid, networks)
    return Population(user_ids=ids, figures=figures)


def _place(target: IntArray, ids: IntArray, keys: IntArray, values: npt.NDArray[Any]) -> None:
    """target[i] = values[j] where ids[i] == keys[j] (keys not in ids are ignored)."""
    if not ids.size or not keys.size:
        return
    pos = np.minimum(np.searchsorted(ids, keys), ids.shape[0] - 1)
    found = ids[pos] == keys
    target[pos[found]] = values[found].astype(np.int64)


def _columns(
    sql: str, params: list[Any], n: int, *, dtype: type = np.int64
) -> list[npt.NDArray[Any]]:
    """Run `sql` and return its n columns as numpy arrays (the first always int64 ids)."""
    chunks: list[npt.NDArray[Any]] = []
    with connection.chunked_cursor() as cursor:  # server-side on PostgreSQL: rows stream
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(50_000):
            chunks.append(np.asarray(batch, dtype=np.float64 if dtype is np.float64 else np.int64))
    if not chunks:
        return [np.zeros(0, dtype=np.int64) for _ in range(n)]
    table = np.concatenate(chunks).reshape(-1, n)
    return [table[:, 0].astype(np.int64)] + [table[:, c] for c in range(1, n)]
