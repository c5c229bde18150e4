"""The read model of published scores: LatestScore rows and their cached API JSON.

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
from decimal import ROUND_HALF_UP, Decimal
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
    """A subject's latest published score as API JSON: from the cache, else the read model."""
    key = latest_cache_key(user_id=user_id, account_id=account_id)
    hit = cache.get(key)
    if hit is not None:
        return dict(hit)
    subject = Q(user_id=user_id) if user_id is not None else Q(account_id=account_id)
    row = LatestScore.objects.visible().filter(subject).values_list("api_json", flat=True).first()
    if row is None:
        return None
    cache.set(key, row, CACHE_TTL)
    return dict(row)


def decimal_round(value: float, places: int) -> float:
    """`value` rounded half away from zero on its 15-significant-digit decimal.

    The read model's numbers are rounded in the database on PostgreSQL (``round(x::numeric,
    n)``, where a float8 becomes that decimal); this is the same rule for the other databases,
    so the stored API JSON does not depend on the database.
    """
    exact = Decimal(f"{value:.15g}")
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


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
    "api_json",
)


def rebuild_latest(run: ScoringRun) -> None:
    """Make the read model show the run's scores (inside the publish transaction)."""
    version = run.version
    if not version.is_current:
        return  # another series: its history is kept, pages show the current version
    newer = ScoringRun.objects.published().filter(version=version, day__gt=run.day).exists()
    if newer:
        return  # a backfilled day: history only, the read model already shows a later day
    if connection.vendor == "postgresql":
        _swap_in_fresh_table(run)
    else:
        _rewrite_rows(run)
    transaction.on_commit(new_latest_generation)


def _api_json(run: ScoringRun, subject: tuple[Any, ...], change: list[float | None]) -> Any:
    (_pk, account_id, user_id, score, reach, amp, net_score, style, network, handle, name) = (
        subject[:11]
    )
    return {
        "subject": "account" if account_id is not None else "user",
        "id": account_id if account_id is not None else user_id,
        "network": network,
        "handle": handle,
        "display_name": name,
        "score": decimal_round(score, 2),
        "shown": round(score),
        "bucket": bucket_for(score),
        "day": run.day.isoformat(),
        "version": run.version.name,
        "change_1d": change[0],
        "change_7d": change[1],
        "change_30d": change[2],
        "true_reach": decimal_round(reach, 1),
        "amplification": decimal_round(amp, 1),
        "network_score": decimal_round(net_score, 1),
        "style": style,
    }


def _rewrite_rows(run: ScoringRun) -> None:
    """Other databases: replace the rows of the run's subjects in place."""
    version = run.version
    LatestScore.objects.exclude(version=version).delete()
    rows: list[tuple[Any, ...]] = []
    for subject in _latest_sources(run):
        pk, account_id, user_id, score = subject[:4]
        network, handle, name = subject[8:11]
        change = [None if past is None else decimal_round(score - past, 2) for past in subject[11:]]
        subject_row = (version.pk, user_id, account_id, pk, run.day, score, *change)
        api = _api_json(run, subject, change)
        rows.append((*subject_row, network, handle[:255], name[:255], False, api))
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
          AND (d.account_id IS NULL OR d.account_id NOT IN ({_hidden_sql()}))
          AND (d.user_id IS NULL OR NOT u.opted_out)
        ORDER BY d.id
    """
    params = [*past, RunStatus.PUBLISHED.value, run.version_id, *past, run.pk, run.pk]
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
    """The ids of hidden accounts, as SQL without parameters (the one rule, `hidden_ids`)."""
    query = NetworkAccount.objects.hidden_ids().query
    with connection.cursor() as cursor:
        sql, params = query.sql_with_params()
        return str(cursor.mogrify(sql, params)) if params else sql


# --- PostgreSQL: a fresh table, swapped in ----------------------------------------------------

NEXT_SUFFIX = "_next"


def _swap_in_fresh_table(run: ScoringRun) -> None:
    """Build the whole read model into a new table and put it in the old one's place.

    The old table is locked against writes first (SHARE): an opt-out or hiding in flight
    finishes before the build reads the scores (its removal starts by deleting read-model rows),
    and one that starts later waits for the swap and then deletes from the new table. Every
    index and constraint is copied from the catalog under its own name, so migrations keep
    working on the swapped-in table.
    """
    table = LatestScore._meta.db_table
    fresh = table + NEXT_SUFFIX
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {quote(table)} IN SHARE MODE")
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
    change = {d: f"round((d.score - hist.d{d})::numeric, 2)" for d in HISTORY}
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
            SELECT d.id, d.account_id, d.user_id, d.score, d.true_reach, d.amplification,
                   d.network_score, d.style,
                   CASE WHEN d.account_id IS NOT NULL THEN a.network ELSE '' END AS network,
                   left(CASE WHEN d.account_id IS NOT NULL
                        THEN COALESCE(NULLIF(a.handle, ''), a.external_id)
                        ELSE COALESCE(b.handle, '') END, 255) AS handle,
                   left(CASE WHEN d.account_id IS NOT NULL THEN a.display_name
                        ELSE COALESCE(NULLIF(u.display_name, ''), split_part(u.email, '@', 1))
                        END, 255) AS name,
                   round(d.score)::bigint AS shown,
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
               {", ".join(f"s.c{d}::float8" for d in HISTORY)},
               s.network, s.handle, s.name, false,
               jsonb_build_object(
                   'subject', CASE WHEN s.account_id IS NOT NULL THEN 'account' ELSE 'user' END,
                   'id', COALESCE(s.account_id, s.user_id),
                   'network', s.network, 'handle', s.handle, 'display_name', s.name,
                   'score', round(s.score::numeric, 2)::float8, 'shown', s.shown,
                   'bucket', CASE WHEN s.shown >= 100 THEN '100'
                                  WHEN s.shown < 10 THEN '1-9'
                                  ELSE (s.shown / 10 * 10)::text || '-'
                                       || (s.shown / 10 * 10 + 9)::text END,
                   'day', %s::text, 'version', %s::text,
                   {", ".join(f"'change_{d}d', s.c{d}::float8" for d in HISTORY)},
                   'true_reach', round(s.true_reach::numeric, 1)::float8,
                   'amplification', round(s.amplification::numeric, 1)::float8,
                   'network_score', round(s.network_score::numeric, 1)::float8,
                   'style', s.style)
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
        run.day.isoformat(),
        run.version.name,
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
