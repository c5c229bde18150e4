"""The read model of published scores: LatestScore rows and the API JSON shaped from them.

Publishing a run rebuilds the read model (`rebuild_latest`). On PostgreSQL the whole table is
built afresh in one INSERT ... SELECT (the run's scores joined with their subjects and history,
plus the rows of subjects the run did not score), its indexes are built once by sort, and it is
swapped in under the old name inside the publish transaction: no row-by-row index maintenance,
no dead rows, and readers see the old table until the publish commits. Other databases rewrite
the run's rows in place. Pages and the API read the rows (`latest_api_json`, through a cache
keyed by the read model's generation, which every rebuild moves). An opted-out or protected
subject's scores and read-model rows go through `remove_scores_for_account` /
`remove_scores_for_user`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q

from networks.models import NetworkAccount
from scoring import write
from scoring.models import (
    DailyScore,
    Explanation,
    LatestScore,
    PersonFigures,
    RunStatus,
    ScoringRun,
    bucket_for,
)
from scoring.queries import bump_privacy_epoch
from scoring.topics import TopicScore

CACHE_TTL = 60 * 60 * 48
HISTORY = (1, 7, 30)  # days back for LatestScore's change_1d / 7d / 30d
GENERATION_KEY = "scoring:latest-generation"


def latest_generation() -> int:
    """The read model's generation: part of every cached subject's key, moved by each rebuild.

    When the cache lost it, a new one is drawn from the clock, so answers cached before can
    never be read again (they expire on their own).
    """
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, time.time_ns(), None)
        value = cache.get(GENERATION_KEY) or 0
    return int(value)


def new_latest_generation() -> None:
    """The read model changed as a whole: no subject's cached answer may be served again."""
    cache.set(GENERATION_KEY, time.time_ns(), None)


def latest_cache_key(*, user_id: int | None = None, account_id: int | None = None) -> str:
    """The cache key of a subject's API JSON in the current read model generation."""
    generation = latest_generation()
    if user_id is not None:
        return f"scoring:latest:{generation}:user:{user_id}"
    return f"scoring:latest:{generation}:account:{account_id}"


def latest_api_json(
    *, user_id: int | None = None, account_id: int | None = None
) -> dict[str, Any] | None:
    """A subject's latest published score as API JSON: from the cache, else the read model.

    Shaped when first asked for (not for every subject at publish): a rebuild moves the cache
    to a new generation, so an answer cached before it is never served after it.
    """
    key = latest_cache_key(user_id=user_id, account_id=account_id)
    hit = cache.get(key)
    if hit is not None:
        return dict(hit)
    subject = Q(user_id=user_id) if user_id is not None else Q(account_id=account_id)
    row = LatestScore.objects.visible().filter(subject).values(*_API_FIELDS).order_by().first()
    if row is None:
        return None
    api = api_json_of(row)
    cache.set(key, api, CACHE_TTL)
    return api


_API_FIELDS = (
    "account_id",
    "user_id",
    "network",
    "handle",
    "display_name",
    "score",
    "day",
    "version__name",
    "change_1d",
    "change_7d",
    "change_30d",
    "daily__true_reach",
    "daily__amplification",
    "daily__network_score",
    "daily__style",
)


def api_json_of(row: dict[str, Any]) -> dict[str, Any]:
    """The API JSON of one read-model row (`_API_FIELDS`)."""
    score = float(row["score"])
    account_id = row["account_id"]
    return {
        "subject": "account" if account_id is not None else "user",
        "id": account_id if account_id is not None else row["user_id"],
        "network": row["network"],
        "handle": row["handle"],
        "display_name": row["display_name"],
        "score": round(score, 2),
        "shown": round(score),
        "bucket": bucket_for(score),
        "day": row["day"].isoformat(),
        "version": row["version__name"],
        "change_1d": row["change_1d"],
        "change_7d": row["change_7d"],
        "change_30d": row["change_30d"],
        "true_reach": round(row["daily__true_reach"], 1),
        "amplification": round(row["daily__amplification"], 1),
        "network_score": round(row["daily__network_score"], 1),
        "style": row["daily__style"],
    }


def change_of(score: float, past: float) -> float:
    """A score's change, to two places: ``round((score - past) * 100) / 100``.

    Plain float steps (round half to even, as PostgreSQL's round(float8) too), so the database
    and Python give the same bits whichever route built the row.
    """
    return round((score - past) * 100) / 100


_LATEST_COLUMNS = (
    "version_id",
    "user_id",
    "account_id",
    "daily_id",
    "day",
    "score",
    "change_1d",
    "change_7d",
    "change_30d",
    "network",
    "handle",
    "display_name",
    "hidden",
)


def rebuild_latest(run: ScoringRun) -> None:
    """Make the read model show the run's scores (inside the publish transaction)."""
    version = run.version
    if not version.is_current:
        return  # another series: its history is kept, pages show the current version
    if connection.vendor == "postgresql":
        # Writes wait from here until the publish commits: another publish (this mode conflicts
        # with itself, so the check below sees a concurrent later day once it committed) and
        # the removal paths (their first statement deletes read-model rows). Reads go on.
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {quote(LatestScore._meta.db_table)} IN SHARE ROW EXCLUSIVE MODE"
            )
    newer = ScoringRun.objects.published().filter(version=version, day__gt=run.day).exists()
    if newer:
        return  # a backfilled day: history only, the read model already shows a later day
    if connection.vendor == "postgresql":
        _swap_in_fresh_table(run)
    else:
        _rewrite_rows(run)
    transaction.on_commit(new_latest_generation)


def _rewrite_rows(run: ScoringRun) -> None:
    """Other databases: replace the rows of the run's subjects in place."""
    version = run.version
    LatestScore.objects.exclude(version=version).delete()
    rows: list[tuple[Any, ...]] = []
    for subject in _latest_sources(run):
        pk, account_id, user_id, score = subject[:4]
        network, handle, name = subject[8:11]
        change = [None if past is None else change_of(score, past) for past in subject[11:]]
        subject_row = (version.pk, user_id, account_id, pk, run.day, score, *change)
        rows.append((*subject_row, network, handle[:255], name[:255], False))
    in_run = DailyScore.objects.filter(run_id=run.pk)
    LatestScore.objects.filter(
        Q(account_id__in=in_run.filter(account_id__isnull=False).values("account_id"))
        | Q(user_id__in=in_run.filter(user_id__isnull=False).values("user_id"))
    ).delete()
    write.insert(LatestScore, _LATEST_COLUMNS, rows, with_ids=False)


def _history_sql() -> str:
    """The run's subjects' scores 1, 7 and 30 days before, one row per subject (SQL, 6 params)."""
    score_table = DailyScore._meta.db_table
    run_table = ScoringRun._meta.db_table
    history = ", ".join(f"MAX(CASE WHEN r.day = %s THEN h.score END) AS d{d}" for d in HISTORY)
    return f"""
        SELECT COALESCE(h.account_id, -h.user_id) AS subject, {history}
        FROM {run_table} r JOIN {score_table} h ON h.run_id = r.id
        WHERE r.status = %s AND r.version_id = %s AND r.day IN (%s, %s, %s)
        GROUP BY COALESCE(h.account_id, -h.user_id)
    """


def _latest_sources(run: ScoringRun) -> Iterator[tuple[Any, ...]]:
    """Per visible score of the run, in one query: its figures, who it is and its history.

    Yields (daily id, account id, user id, score, true reach, amplification, network score,
    style, network, handle, display name, score 1, 7 and 30 days before or None). A user shows the
    handle of their highest-scoring linked account in the run and their name (else e-mail name).
    """
    from django.contrib.auth import get_user_model

    score_table = DailyScore._meta.db_table
    account_table = NetworkAccount._meta.db_table
    user_table = get_user_model()._meta.db_table
    past = [connection.ops.adapt_datefield_value(run.day - dt.timedelta(days=d)) for d in HISTORY]
    hidden_sql, hidden_params = NetworkAccount.objects.hidden_ids().query.sql_with_params()
    sql = f"""
        WITH hist AS ({_history_sql()}),
        best AS (
            SELECT a.user_id, a.handle, a.external_id,
                   ROW_NUMBER() OVER (PARTITION BY a.user_id ORDER BY s.score DESC, s.id) AS rank
            FROM {score_table} s JOIN {account_table} a ON a.id = s.account_id
            WHERE s.run_id = %s AND a.user_id IS NOT NULL
        )
        SELECT d.id, d.account_id, d.user_id, d.score, d.true_reach, d.amplification,
               d.network_score, d.style, a.network, a.handle, a.external_id, a.display_name,
               b.handle, b.external_id, u.display_name, u.email,
               {", ".join(f"hist.d{d}" for d in HISTORY)}
        FROM {score_table} d
        LEFT JOIN {account_table} a ON a.id = d.account_id
        LEFT JOIN {user_table} u ON u.id = d.user_id
        LEFT JOIN best b ON b.user_id = d.user_id AND b.rank = 1
        LEFT JOIN hist ON hist.subject = COALESCE(d.account_id, -d.user_id)
        WHERE d.run_id = %s
          AND (d.account_id IS NULL OR d.account_id NOT IN ({hidden_sql}))
          AND (d.user_id IS NULL OR NOT u.opted_out)
        ORDER BY d.id
    """
    params = [
        *past,
        RunStatus.PUBLISHED.value,
        run.version_id,
        *past,
        run.pk,
        run.pk,
        *hidden_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(20_000):
            for row in batch:
                head, (net, handle, ext_id, a_name, b_handle, b_ext_id, u_name, email) = (
                    row[:8],
                    row[8:16],
                )
                if row[1] is not None:
                    who = (net, handle or ext_id, a_name)
                else:
                    who = ("", b_handle or b_ext_id or "", u_name or email.split("@", 1)[0])
                yield (*head, *who, *row[16:])


def _hidden_sql() -> str:
    """The ids of hidden accounts, as SQL without parameters (the one rule, `hidden_ids`).
    PostgreSQL only (psycopg's `mogrify`); other databases pass the parameters along."""
    query = NetworkAccount.objects.hidden_ids().query
    with connection.cursor() as cursor:
        sql, params = query.sql_with_params()
        return str(cursor.mogrify(sql, params)) if params else sql


# --- PostgreSQL: a fresh table, swapped in ----------------------------------------------------

NEXT_SUFFIX = "_next"


def _swap_in_fresh_table(run: ScoringRun) -> None:
    """Build the whole read model into a new table and put it in the old one's place.

    The old table is locked against writes first (`rebuild_latest`): an opt-out or hiding in
    flight finishes before the build reads the scores (its removal starts by deleting read-model
    rows), and one that starts later waits for the swap and then deletes from the new table. Every
    index and constraint is copied from the catalog under its own name, so migrations keep
    working on the swapped-in table.
    """
    table = LatestScore._meta.db_table
    fresh = table + NEXT_SUFFIX
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {quote(fresh)}")
        cursor.execute(
            f"CREATE TABLE {quote(fresh)} (LIKE {quote(table)} INCLUDING DEFAULTS "
            "INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE)"
        )
        sql, params = _fresh_rows_sql(run, fresh)
        cursor.execute(sql, params)
        renames = _copy_indexes_and_constraints(cursor, table, fresh)
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (old_sequence,) = cursor.fetchone()
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [fresh])
        (new_sequence,) = cursor.fetchone()
        cursor.execute(f"DROP TABLE {quote(table)}")
        cursor.execute(f"ALTER TABLE {quote(fresh)} RENAME TO {quote(table)}")
        for kind, temporary, name in renames:
            if kind == "index":
                cursor.execute(f"ALTER INDEX {quote(temporary)} RENAME TO {quote(name)}")
            else:
                cursor.execute(
                    f"ALTER TABLE {quote(table)} RENAME CONSTRAINT {quote(temporary)} "
                    f"TO {quote(name)}"
                )
        if old_sequence and new_sequence:
            cursor.execute(f"ALTER SEQUENCE {new_sequence} RENAME TO {old_sequence.split('.')[-1]}")
        cursor.execute(f"ANALYZE {quote(table)}")


def _fresh_rows_sql(run: ScoringRun, fresh: str) -> tuple[str, list[Any]]:
    """INSERT the run's visible subjects and the rows of the others (same version) into `fresh`."""
    from django.contrib.auth import get_user_model

    quote = connection.ops.quote_name
    table = LatestScore._meta.db_table
    score_table = DailyScore._meta.db_table
    account_table = NetworkAccount._meta.db_table
    user_table = get_user_model()._meta.db_table
    past = [run.day - dt.timedelta(days=d) for d in HISTORY]
    hidden = _hidden_sql()
    change = {d: f"round((d.score - hist.d{d}) * 100) / 100" for d in HISTORY}
    columns = ", ".join(_LATEST_COLUMNS)
    sql = f"""
        INSERT INTO {quote(fresh)} ({columns})
        WITH hist AS ({_history_sql()}),
        best AS (
            SELECT DISTINCT ON (a.user_id) a.user_id,
                   COALESCE(NULLIF(a.handle, ''), a.external_id) AS handle
            FROM {score_table} s JOIN {account_table} a ON a.id = s.account_id
            WHERE s.run_id = %s AND a.user_id IS NOT NULL
            ORDER BY a.user_id, s.score DESC, s.id
        ),
        scored AS (
            SELECT d.id, d.account_id, d.user_id, d.score,
                   CASE WHEN d.account_id IS NOT NULL THEN a.network ELSE '' END AS network,
                   left(CASE WHEN d.account_id IS NOT NULL
                        THEN COALESCE(NULLIF(a.handle, ''), a.external_id)
                        ELSE COALESCE(b.handle, '') END, 255) AS handle,
                   left(CASE WHEN d.account_id IS NOT NULL THEN a.display_name
                        ELSE COALESCE(NULLIF(u.display_name, ''), split_part(u.email, '@', 1))
                        END, 255) AS name,
                   {", ".join(f"{expr} AS c{d}" for d, expr in change.items())}
            FROM {score_table} d
            LEFT JOIN {account_table} a ON a.id = d.account_id
            LEFT JOIN {user_table} u ON u.id = d.user_id
            LEFT JOIN best b ON b.user_id = d.user_id
            LEFT JOIN hist ON hist.subject = COALESCE(d.account_id, -d.user_id)
            WHERE d.run_id = %s
              AND (d.account_id IS NULL OR (a.id IS NOT NULL AND a.id NOT IN ({hidden})))
              AND (d.user_id IS NULL OR (u.id IS NOT NULL AND NOT u.opted_out))
        )
        SELECT %s, s.user_id, s.account_id, s.id, %s, s.score,
               {", ".join(f"s.c{d}" for d in HISTORY)},
               s.network, s.handle, s.name, false
        FROM scored s
        UNION ALL
        SELECT {", ".join(f"o.{c}" for c in _LATEST_COLUMNS)}
        FROM {quote(table)} o
        WHERE o.version_id = %s
          AND (o.account_id IS NULL OR o.account_id NOT IN ({hidden}))
          AND NOT EXISTS (
              SELECT 1 FROM {score_table} d WHERE d.run_id = %s AND d.account_id = o.account_id)
          AND NOT EXISTS (
              SELECT 1 FROM {score_table} d WHERE d.run_id = %s AND d.user_id = o.user_id)
          AND NOT EXISTS (
              SELECT 1 FROM {user_table} u WHERE u.id = o.user_id AND u.opted_out)
    """
    params: list[Any] = [
        *past,
        RunStatus.PUBLISHED.value,
        run.version_id,
        *past,
        run.pk,  # best
        run.pk,  # scored
        run.version_id,
        run.day,
        run.version_id,  # kept rows
        run.pk,
        run.pk,
    ]
    return sql, params


def _copy_indexes_and_constraints(
    cursor: Any, table: str, fresh: str
) -> list[tuple[str, str, str]]:
    """Give `fresh` every index and constraint `table` has, under temporary names.

    Returns (kind, temporary name, name) to rename them by once `fresh` has taken over.
    """
    quote = connection.ops.quote_name
    renames: list[tuple[str, str, str]] = []
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'c', 'f', 'x') ORDER BY conname",
        [table],
    )
    for name, definition in cursor.fetchall():
        temporary = _temporary(name)
        cursor.execute(f"ALTER TABLE {quote(fresh)} ADD CONSTRAINT {quote(temporary)} {definition}")
        renames.append(("constraint", temporary, name))
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
        [table],
    )
    for name, definition in cursor.fetchall():
        head, _, tail = definition.partition(" ON ")
        head = head.rsplit(" ", 1)[0]  # CREATE [UNIQUE] INDEX <name> -> without the name
        tail = tail.split(" USING ", 1)[1]
        temporary = _temporary(name)
        cursor.execute(f"{head} {quote(temporary)} ON {quote(fresh)} USING {tail}")
        renames.append(("index", temporary, name))
    return renames


def _temporary(name: str) -> str:
    """A name for the fresh table's copy of `name` (PostgreSQL names hold 63 bytes)."""
    return name[: 63 - len(NEXT_SUFFIX)] + NEXT_SUFFIX


# --- privacy ----------------------------------------------------------------------------------


def remove_scores_for_account(*, account_id: int) -> int:
    """An account opted out or turned protected: its scores and read-model row go; return rows."""
    with transaction.atomic():
        LatestScore.objects.filter(account_id=account_id).delete()
        Explanation.objects.filter(score__account_id=account_id).delete()
        TopicScore.objects.filter(account_id=account_id).delete()  # topics go with the score
        deleted, _ = DailyScore.objects.filter(account_id=account_id).delete()
    transaction.on_commit(lambda: cache.delete(latest_cache_key(account_id=account_id)))
    transaction.on_commit(bump_privacy_epoch)
    return deleted


def remove_scores_for_user(*, user_id: int) -> int:
    """A person opted out: their combined scores and those of their linked accounts go."""
    with transaction.atomic():
        account_ids = list(
            NetworkAccount.objects.filter(user_id=user_id).values_list("pk", flat=True)
        )
        removed = sum(remove_scores_for_account(account_id=a) for a in account_ids)
        LatestScore.objects.filter(user_id=user_id).delete()
        Explanation.objects.filter(score__user_id=user_id).delete()
        TopicScore.objects.filter(user_id=user_id).delete()  # topics go with the score
        deleted, _ = DailyScore.objects.filter(user_id=user_id).delete()
        PersonFigures.objects.filter(user_id=user_id).delete()
    transaction.on_commit(lambda: cache.delete(latest_cache_key(user_id=user_id)))
    transaction.on_commit(bump_privacy_epoch)
    return removed + deleted
