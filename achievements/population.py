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
from scoring.plusk import PlusK
from scoring.topics import TopicScore

IntArray = npt.NDArray[np.int64]

# Figures copied as they are from the scoring run's PersonFigures.
RUN_FIGURES = (
    "mentioners",
    "mentioners_one_day",
    "top_post_sharers",
    "posts_shared",
    "top_moment_reactions",
)
# A topic counts for "top 5% of a topic" once this many subjects are scored on it in the run.
TOPIC_MIN_SUBJECTS = 20


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
    _plus_k_and_topics(figures, ids, run_id)
    return Population(user_ids=ids, figures=figures)


def _plus_k_and_topics(figures: dict[str, IntArray], ids: IntArray, run_id: int | None) -> None:
    """+K given, most +K received on one topic, and the best percentile within a topic."""
    plus_k = PlusK._meta.db_table
    uid, given = _columns(
        f"SELECT giver_id, COUNT(*) FROM {plus_k} WHERE taken_back_at IS NULL GROUP BY giver_id",
        [],
        2,
    )
    _place(figures["plus_k_given"], ids, uid, given)
    uid, most = _columns(
        f"SELECT receiver_user_id, MAX(n) FROM (SELECT receiver_user_id, topic_id, COUNT(*) AS n "
        f"FROM {plus_k} WHERE taken_back_at IS NULL AND receiver_user_id IS NOT NULL "
        "GROUP BY receiver_user_id, topic_id) per_topic GROUP BY receiver_user_id",
        [],
        2,
    )
    _place(figures["plus_k_topic_max"], ids, uid, most)
    if run_id is None:
        return
    topics = TopicScore._meta.db_table
    uid, percentile = _columns(
        "SELECT user_id, MAX(pct) FROM ("
        "SELECT user_id, FLOOR(100 * PERCENT_RANK() OVER (PARTITION BY topic_id ORDER BY score)) "
        "AS pct, COUNT(*) OVER (PARTITION BY topic_id) AS subjects "
        f"FROM {topics} WHERE run_id = %s) ranked "
        "WHERE user_id IS NOT NULL AND subjects >= %s GROUP BY user_id",
        [run_id, TOPIC_MIN_SUBJECTS],
        2,
    )
    _place(figures["topic_percentile"], ids, uid, percentile)


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
