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

from achievements.rules import FIGURES
from klout.columnar import read_columns
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
    """Active, not opted-out people (or just `user_ids`) with their figures from `run_id`.

    Each figure is one query whose result travels as numpy columns (binary COPY on PostgreSQL).
    """
    user_table = get_user_model()._meta.db_table
    all_ids, kept = read_columns(
        f"SELECT id, CAST(CASE WHEN is_active AND NOT opted_out THEN 1 ELSE 0 END AS smallint) "
        f"FROM {user_table} ORDER BY id",
        [],
        ["int8", "int2"],
    )
    keep = kept == 1
    if user_ids is not None:
        keep &= np.isin(all_ids, np.asarray(list(user_ids), dtype=np.int64))
    ids = all_ids[keep]
    figures: dict[str, IntArray] = {name: np.zeros(ids.shape[0], np.int64) for name in FIGURES}
    figures["member_number"] = (np.flatnonzero(keep) + 1).astype(np.int64)

    if run_id is not None:
        table = PersonFigures._meta.db_table
        names = ", ".join(f"CAST({name} AS bigint)" for name in RUN_FIGURES)
        cols = read_columns(
            f"SELECT user_id, {names} FROM {table} WHERE run_id = %s",
            [run_id],
            ["int8"] * (1 + len(RUN_FIGURES)),
        )
        for name, column in zip(RUN_FIGURES, cols[1:], strict=True):
            _place(figures[name], ids, cols[0], column)
        score_table = DailyScore._meta.db_table
        uid, score = read_columns(
            f"SELECT user_id, CAST(score AS double precision) FROM {score_table} "
            "WHERE run_id = %s AND user_id IS NOT NULL",
            [run_id],
            ["int8", "float8"],
        )
        _place(figures["score"], ids, uid, np.rint(score).astype(np.int64))

    account_table = NetworkAccount._meta.db_table
    uid, networks = read_columns(
        f"SELECT user_id, COUNT(DISTINCT network) FROM {account_table} "
        "WHERE user_id IS NOT NULL AND NOT protected AND NOT opted_out GROUP BY user_id",
        [],
        ["int8", "int8"],
    )
    _place(figures["networks_linked"], ids, uid, networks)
    _plus_k_and_topics(figures, ids, run_id)
    return Population(user_ids=ids, figures=figures)


def _plus_k_and_topics(figures: dict[str, IntArray], ids: IntArray, run_id: int | None) -> None:
    """+K given, most +K received on one topic, and the best percentile within a topic."""
    plus_k = PlusK._meta.db_table
    uid, given = read_columns(
        f"SELECT giver_id, COUNT(*) FROM {plus_k} WHERE taken_back_at IS NULL GROUP BY giver_id",
        [],
        ["int8", "int8"],
    )
    _place(figures["plus_k_given"], ids, uid, given)
    uid, most = read_columns(
        f"SELECT receiver_user_id, MAX(n) FROM (SELECT receiver_user_id, topic_id, COUNT(*) AS n "
        f"FROM {plus_k} WHERE taken_back_at IS NULL AND receiver_user_id IS NOT NULL "
        "GROUP BY receiver_user_id, topic_id) per_topic GROUP BY receiver_user_id",
        [],
        ["int8", "int8"],
    )
    _place(figures["plus_k_topic_max"], ids, uid, most)
    if run_id is None:
        return
    topics = TopicScore._meta.db_table
    uid, percentile = read_columns(
        "SELECT user_id, CAST(MAX(pct) AS bigint) FROM ("
        "SELECT user_id, FLOOR(100 * PERCENT_RANK() OVER (PARTITION BY topic_id ORDER BY score)) "
        "AS pct, COUNT(*) OVER (PARTITION BY topic_id) AS subjects "
        f"FROM {topics} WHERE run_id = %s) ranked "
        "WHERE user_id IS NOT NULL AND subjects >= %s GROUP BY user_id",
        [run_id, TOPIC_MIN_SUBJECTS],
        ["int8", "int8"],
    )
    _place(figures["topic_percentile"], ids, uid, percentile)


def _place(target: IntArray, ids: IntArray, keys: IntArray, values: npt.NDArray[Any]) -> None:
    """target[i] = values[j] where ids[i] == keys[j] (keys not in ids are ignored)."""
    if not ids.size or not keys.size:
        return
    pos = np.minimum(np.searchsorted(ids, keys), ids.shape[0] - 1)
    found = ids[pos] == keys
    target[pos[found]] = values[found].astype(np.int64)
