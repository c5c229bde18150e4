"""What a published day tells each person, built for everyone in one streaming pass.

One query joins, per linked person of the run: their score and the previous published day's,
their threshold, the explanation's main reason, this run's figures and the previous run's top
people (with handles). Python walks the rows once and yields `accounts.services.Notice`s; keys
make every notice idempotent (a day's score move once per day, an achievement level once ever).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Max
from django.urls import reverse

from accounts.models import NotificationPreference
from accounts.services import Notice
from achievements.advice import AdviceFigures, advice_for
from achievements.models import Unlock
from achievements.rules import LEVEL_NAMES, RULES_BY_KEY
from networks.models import NetworkAccount
from scoring.models import DailyScore, Explanation, PersonFigures, ScoringRun
from scoring.queries import network_label

DEFAULT_THRESHOLD = 3  # NotificationPreference.score_move_threshold's default


def day_notices(run: ScoringRun) -> Iterator[Notice]:
    """Every notice a published run causes: score moves, new top people, achievements."""
    dashboard = reverse("dashboard")
    previous = (
        ScoringRun.objects.published()
        .filter(version_id=run.version_id, day__lt=run.day)
        .order_by("-day")
        .values_list("pk", flat=True)
        .first()
    )
    # The hidden rule: a notice never names a protected or opted-out account (a small set).
    hidden = set(NetworkAccount.objects.hidden_ids())
    for row in _person_rows(run, previous):
        _forget_hidden(row, hidden)
        yield from _person_notices(run, row, dashboard, has_previous=previous is not None)
    yield from _achievement_notices(run)


def _person_rows(run: ScoringRun, previous: int | None) -> Iterator[dict[str, Any]]:
    q = connection.ops.quote_name
    figures = q(PersonFigures._meta.db_table)
    scores = q(DailyScore._meta.db_table)
    explanations = q(Explanation._meta.db_table)
    preferences = q(NotificationPreference._meta.db_table)
    accounts = q(NetworkAccount._meta.db_table)
    users = q(get_user_model()._meta.db_table)
    sql = f"""
        SELECT f.user_id, d.score, p.score, pref.score_move_threshold, e.text, e.kind,
               e.about_account_id, ab.handle, ab.external_id,
               f.actions_received, f.top_network, f.top_network_share, f.top_post_kind,
               f.top_post_kind_share, f.top_hour, f.top_hour_share,
               f.top_influencee_id, ie.handle, ie.external_id,
               f.top_influencer_id, ir.handle, ir.external_id,
               f.new_high_actor_id, f.new_high_actor_score, ha.handle, ha.external_id,
               pf.top_influencee_id, pf.top_influencer_id
        FROM {figures} f
        JOIN {users} u ON u.id = f.user_id AND u.is_active AND NOT u.opted_out
        JOIN {scores} d ON d.run_id = f.run_id AND d.user_id = f.user_id
        LEFT JOIN {scores} p ON p.run_id = %s AND p.user_id = f.user_id
        LEFT JOIN {preferences} pref ON pref.user_id = f.user_id
        LEFT JOIN {explanations} e ON e.score_id = d.id AND e.position = 0
        LEFT JOIN {figures} pf ON pf.run_id = %s AND pf.user_id = f.user_id
        LEFT JOIN {accounts} ie ON ie.id = f.top_influencee_id
        LEFT JOIN {accounts} ir ON ir.id = f.top_influencer_id
        LEFT JOIN {accounts} ha ON ha.id = f.new_high_actor_id
        LEFT JOIN {accounts} ab ON ab.id = e.about_account_id
        WHERE f.run_id = %s
    """
    names = (
        "user_id", "score", "prev", "threshold", "reason", "reason_kind",
        "about", "about_handle", "about_ext",
        "actions", "network", "network_share", "post_kind", "post_kind_share", "hour", "hour_share",
        "influencee", "influencee_handle", "influencee_ext",
        "influencer", "influencer_handle", "influencer_ext",
        "high_actor", "high_actor_score", "high_actor_handle", "high_actor_ext",
        "prev_influencee", "prev_influencer",
    )  # fmt: skip
    # A server-side cursor on PostgreSQL: a million rows stream instead of landing in memory.
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [previous or 0, previous or 0, run.pk])
        while batch := cursor.fetchmany(20_000):
            for values in batch:
                yield dict(zip(names, values, strict=True))


def _forget_hidden(row: dict[str, Any], hidden: set[int]) -> None:
    """Blank out every account the hidden rule does not let us name, and sentences about them."""
    for field in ("influencee", "influencer", "high_actor"):
        if row[field] is not None and row[field] in hidden:
            row[field] = None
            row[f"{field}_handle"] = row[f"{field}_ext"] = None
    if row["reason_kind"] == "person":
        # The stored sentence names nobody; name its person only while they may be shown.
        who = row["about_handle"] or row["about_ext"]
        visible = row["about"] is not None and row["about"] not in hidden and who
        row["reason"] = f"{row['reason']} is @{who}" if visible else None


def _person_notices(
    run: ScoringRun, row: dict[str, Any], dashboard: str, *, has_previous: bool
) -> Iterator[Notice]:
    uid = row["user_id"]
    day = run.day
    if row["prev"] is not None:
        moved = round(row["score"]) - round(row["prev"])
        threshold = max(1, row["threshold"] if row["threshold"] is not None else DEFAULT_THRESHOLD)
        if abs(moved) >= threshold:
            yield Notice(
                user_id=uid,
                kind="score_moved",
                title=(
                    f"Your score went {'up' if moved > 0 else 'down'} {abs(moved)} "
                    f"point{'s' if abs(moved) != 1 else ''} to {round(row['score'])}"
                ),
                body=_score_body(row),
                url=dashboard,
                key=f"score:{day.isoformat()}",
                day=day,
            )
    if has_previous:
        influencee = row["influencee"]
        if influencee is not None and influencee != row["prev_influencee"]:
            who = row["influencee_handle"] or row["influencee_ext"] or "someone"
            yield Notice(
                user_id=uid,
                kind="top_influencee",
                title=f"@{who} is now your top influencee",
                body="They act on your posts more than anyone else in your window.",
                url=dashboard,
                # Once per person ever: a top spot changing hands back and forth is not news.
                key=f"top_influencee:{influencee}",
                day=day,
            )
        influencer = row["influencer"]
        if influencer is not None and influencer != row["prev_influencer"]:
            who = row["influencer_handle"] or row["influencer_ext"] or "someone"
            yield Notice(
                user_id=uid,
                kind="top_influencer",
                title=f"@{who} is now your top influencer",
                body="You act on their posts more than on anyone else's.",
                url=dashboard,
                key=f"top_influencer:{influencer}",
                day=day,
            )
    if row["high_actor"] is not None:
        who = row["high_actor_handle"] or row["high_actor_ext"] or "someone"
        yield Notice(
            user_id=uid,
            kind="higher_score_actor",
            title=(
                f"@{who} (score {round(row['high_actor_score'] or 0)}) started acting on your posts"
            ),
            body=f"Their score is higher than yours ({round(row['score'])}): keep them talking.",
            url=dashboard,
            key=f"higher_score_actor:{row['high_actor']}",
            day=day,
        )


def _score_body(row: dict[str, Any]) -> str:
    parts = []
    if row["reason"]:
        parts.append(f"Main reason: {row['reason']}.")
    advice = advice_for(
        AdviceFigures(
            actions_received=row["actions"] or 0,
            top_post_kind=row["post_kind"] or "",
            top_post_kind_share=row["post_kind_share"] or 0,
            top_network_label=network_label(row["network"]) if row["network"] else "",
            top_network_share=row["network_share"] or 0,
            top_hour=row["hour"],
            top_hour_share=row["hour_share"] or 0,
            top_influencee_handle=row["influencee_handle"] or row["influencee_ext"] or "",
        )
    )
    if advice:
        parts.append(f"Tip: {advice}")
    return " ".join(parts)


def _achievement_notices(run: ScoringRun) -> Iterator[Notice]:
    """One notice per achievement a person reached in this run, naming its highest new level."""
    url = reverse("achievements")
    reached = (
        Unlock.objects.of_run(run.pk)
        .order_by()
        .values("user_id", "achievement")
        .annotate(top=Max("level"))
        .values_list("user_id", "achievement", "top")
    )
    for user_id, key, level in reached:
        rule = RULES_BY_KEY.get(key)
        if rule is None:
            continue
        yield Notice(
            user_id=user_id,
            kind="achievement_unlocked",
            title=f"Achievement unlocked: {rule.name} ({LEVEL_NAMES[level]})",
            body=rule.description,
            url=url,
            key=f"achievement:{key}:{level}",
            day=run.day,
        )
