"""The read model of published scores: LatestScore rows and their cached API JSON.

Publishing a run rebuilds the rows of its subjects (`rebuild_latest`); pages and the API read them
(`latest_api_json`, from the cache first). An opted-out or protected subject's scores and read-model
rows go through `remove_scores_for_account` / `remove_scores_for_user`.
"""

from __future__ import annotations

import datetime as dt
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


def latest_cache_key(*, user_id: int | None = None, account_id: int | None = None) -> str:
    """The cache key of a subject's pre-serialised API JSON."""
    if user_id is not None:
        return f"scoring:latest:user:{user_id}"
    return f"scoring:latest:account:{account_id}"


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
    "api_json",
)


def rebuild_latest(run: ScoringRun) -> dict[str, Any]:
    """Rewrite LatestScore rows for the run's subjects; return the API JSON to cache."""
    version = run.version
    if not version.is_current:
        return {}  # another series: its history is kept, pages show the current version
    newer = ScoringRun.objects.published().filter(version=version, day__gt=run.day).exists()
    if newer:
        return {}  # a backfilled day: history only, the read model already shows a later day
    LatestScore.objects.exclude(version=version).delete()

    rows: list[tuple[Any, ...]] = []
    cached: dict[str, Any] = {}
    for subject in _latest_sources(run):
        (pk, account_id, user_id, score, reach, amp, net_score, style, network, handle, name) = (
            subject[:11]
        )
        change = [None if past is None else round(score - past, 2) for past in subject[11:]]
        api = {
            "subject": "account" if account_id is not None else "user",
            "id": account_id if account_id is not None else user_id,
            "network": network,
            "handle": handle,
            "display_name": name,
            "score": round(score, 2),
            "shown": round(score),
            "bucket": bucket_for(score),
            "day": run.day.isoformat(),
            "version": version.name,
            "change_1d": change[0],
            "change_7d": change[1],
            "change_30d": change[2],
            "true_reach": round(reach, 1),
            "amplification": round(amp, 1),
            "network_score": round(net_score, 1),
            "style": style,
        }
        subject_row = (version.pk, user_id, account_id, pk, run.day, score, *change)
        rows.append((*subject_row, network, handle[:255], name[:255], api))
        cached[latest_cache_key(user_id=user_id, account_id=account_id)] = api
    in_run = DailyScore.objects.filter(run_id=run.pk)
    LatestScore.objects.filter(
        Q(account_id__in=in_run.filter(account_id__isnull=False).values("account_id"))
        | Q(user_id__in=in_run.filter(user_id__isnull=False).values("user_id"))
    ).delete()
    write.insert(LatestScore, _LATEST_COLUMNS, rows, with_ids=False)
    return cached


def _latest_sources(run: ScoringRun) -> Iterator[tuple[Any, ...]]:
    """Per score of the run, in one query: its figures, who it is and its 1/7/30-day history.

    Yields (daily id, account id, user id, score, true reach, amplification, network score,
    style, network, handle, display name, score 1, 7 and 30 days before or None). A user shows the
    handle of their highest-scoring linked account in the run and their name (else e-mail name).
    """
    from django.contrib.auth import get_user_model

    score_table = DailyScore._meta.db_table
    run_table = ScoringRun._meta.db_table
    account_table = NetworkAccount._meta.db_table
    user_table = get_user_model()._meta.db_table
    past = [connection.ops.adapt_datefield_value(run.day - dt.timedelta(days=d)) for d in HISTORY]
    history = ", ".join(f"MAX(CASE WHEN h.day = %s THEN h.score END) AS d{d}" for d in HISTORY)
    sql = f"""
        WITH hist AS (
            SELECT COALESCE(h.account_id, -h.user_id) AS subject, {history}
            FROM {score_table} h JOIN {run_table} r ON r.id = h.run_id
            WHERE r.status = %s AND h.version_id = %s AND h.day IN (%s, %s, %s)
            GROUP BY COALESCE(h.account_id, -h.user_id)
        ),
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
