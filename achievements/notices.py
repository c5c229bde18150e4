"""What a published day tells each person, built for everyone in the database.

Two statements go through the accounts pipeline (`send_notice_rows`): one for what the run's
figures say about each person (their score moved by their threshold, with the explanation's main
reason and one piece of advice from their own figures; a new top influencee or influencer; someone
with a higher score started acting on their posts), one for the achievements the run unlocked.
Every sentence is SQL written from the same templates Python would use; no row passes through
Python, so a million people's day costs the database's time only. Keys make every notice
idempotent (a day's score move once per day, a top person once, an achievement level once ever).

The hidden rule: no notice names a hidden account (`NetworkAccount.objects.hidden_ids()`): its
ids are put aside first and every name is looked up past them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse

from accounts.models import NotificationPreference
from accounts.services import send_notice_rows
from achievements.advice import advice_sql, sql_text
from achievements.models import Unlock
from achievements.rules import LEVEL_NAMES, RULES
from networks.models import Network, NetworkAccount
from scoring.models import DailyScore, Explanation, PersonFigures, ScoringRun

DEFAULT_THRESHOLD = 3  # NotificationPreference.score_move_threshold's default
HIDDEN = "_hidden_accounts"

INFLUENCEE_TITLE = "@{who} is now your top influencee"
INFLUENCEE_BODY = "They act on your posts more than anyone else in your window."
INFLUENCER_TITLE = "@{who} is now your top influencer"
INFLUENCER_BODY = "You act on their posts more than on anyone else's."
HIGH_ACTOR_TITLE = "@{who} (score {their_score}) started acting on your posts"
HIGH_ACTOR_BODY = "Their score is higher than yours ({score}): keep them talking."
ACHIEVEMENT_TITLE = "Achievement unlocked: {name} ({level})"


def send_day_notices(run: ScoringRun) -> int:
    """Store every notice a published run causes; return how many are new."""
    previous = (
        ScoringRun.objects.published()
        .filter(version_id=run.version_id, day__lt=run.day)
        .order_by("-day")
        .values_list("pk", flat=True)
        .first()
    )
    hidden_sql, hidden_params = NetworkAccount.objects.hidden_ids().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {HIDDEN}")
        cursor.execute(f"CREATE TEMPORARY TABLE {HIDDEN} (id bigint PRIMARY KEY)")
        cursor.execute(f"INSERT INTO {HIDDEN} (id) {hidden_sql}", hidden_params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {HIDDEN}")
    try:
        sql, params = person_notices_sql(run, previous)
        told = send_notice_rows(sql=sql, params=params)
        sql, params = achievement_notices_sql(run)
        told += send_notice_rows(sql=sql, params=params)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {HIDDEN}")
    return told


def _name(alias: str) -> str:
    """An account's name as notices show it: its handle, else its external id."""
    return f"COALESCE(NULLIF({alias}.handle, ''), NULLIF({alias}.external_id, ''))"


def _visible(column: str) -> str:
    """`column` (an account id) when it may be named, else NULL."""
    return f"CASE WHEN {column} IN (SELECT id FROM {HIDDEN}) THEN NULL ELSE {column} END"


def _int_text(expr: str) -> str:
    return f"CAST(CAST(ROUND({expr}) AS INTEGER) AS TEXT)"


def person_notices_sql(run: ScoringRun, previous: int | None) -> tuple[str, list[Any]]:
    """SELECT of the run's notices about each person's own figures (see `send_day_notices`)."""
    q = connection.ops.quote_name
    figures = q(PersonFigures._meta.db_table)
    scores = q(DailyScore._meta.db_table)
    explanations = q(Explanation._meta.db_table)
    preferences = q(NotificationPreference._meta.db_table)
    accounts = q(NetworkAccount._meta.db_table)
    users = q(get_user_model()._meta.db_table)
    labels = " ".join("WHEN %s THEN %s" for _ in Network)
    label_params: list[Any] = [v for n in Network for v in (n.value, str(n.label))]
    base = f"""
        SELECT f.user_id,
               CAST(ROUND(d.score) AS INTEGER) AS score,
               CAST(ROUND(p.score) AS INTEGER) AS prev,
               COALESCE(pref.score_move_threshold, %s) AS threshold,
               CASE WHEN e.kind <> 'person' THEN e.text
                    WHEN {_visible("e.about_account_id")} IS NOT NULL AND {_name("ab")} IS NOT NULL
                    THEN e.text || ' is @' || {_name("ab")} END AS reason,
               f.actions_received AS actions,
               CASE WHEN f.top_network = '' THEN '' ELSE CASE f.top_network {labels}
                    ELSE f.top_network END END AS network_label,
               f.top_network_share AS network_share, f.top_post_kind AS post_kind,
               f.top_post_kind_share AS post_kind_share, f.top_hour AS hour,
               f.top_hour_share AS hour_share,
               {_visible("f.top_influencee_id")} AS influencee, {_name("ie")} AS influencee_name,
               {_visible("f.top_influencer_id")} AS influencer, {_name("ir")} AS influencer_name,
               {_visible("f.new_high_actor_id")} AS high_actor, {_name("ha")} AS high_actor_name,
               f.new_high_actor_score AS high_actor_score,
               pf.top_influencee_id AS prev_influencee, pf.top_influencer_id AS prev_influencer
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
    base_params: list[Any] = [
        DEFAULT_THRESHOLD,
        *label_params,
        previous or 0,
        previous or 0,
        run.pk,
    ]

    day, url, has_previous = run.day, reverse("dashboard"), previous is not None
    advice, advice_params = advice_sql(
        {
            "actions_received": "r.actions",
            "top_post_kind": "r.post_kind",
            "top_post_kind_share": "r.post_kind_share",
            "top_network_label": "r.network_label",
            "top_network_share": "r.network_share",
            "top_hour": "r.hour",
            "top_hour_share": "r.hour_share",
            "top_influencee_handle": "CASE WHEN r.influencee IS NULL THEN '' "
            "ELSE r.influencee_name END",
        }
    )
    moved = "(r.score - r.prev)"
    title = (
        f"%s || CASE WHEN {moved} > 0 THEN %s ELSE %s END || CAST(ABS({moved}) AS TEXT) || %s || "
        f"CASE WHEN ABS({moved}) = 1 THEN '' ELSE 's' END || %s || CAST(r.score AS TEXT)"
    )
    title_params: list[Any] = ["Your score went ", "up ", "down ", " point", " to "]
    reason = "%s || NULLIF(r.reason, '') || %s"
    tip = f"%s || NULLIF(({advice}), '')"
    body = f"COALESCE(({reason}) || ' ' || ({tip}), ({reason}), ({tip}), '')"
    body_params: list[Any] = [
        *["Main reason: ", ".", "Tip: ", *advice_params],
        *["Main reason: ", "."],
        *["Tip: ", *advice_params],
    ]
    who = {
        "influencee": "COALESCE(r.influencee_name, 'someone')",
        "influencer": "COALESCE(r.influencer_name, 'someone')",
        "high_actor": "COALESCE(r.high_actor_name, 'someone')",
    }
    influencee_title, influencee_params = sql_text(INFLUENCEE_TITLE, {"who": who["influencee"]})
    influencer_title, influencer_params = sql_text(INFLUENCER_TITLE, {"who": who["influencer"]})
    high_title, high_title_params = sql_text(
        HIGH_ACTOR_TITLE,
        {"who": who["high_actor"], "their_score": _int_text("COALESCE(r.high_actor_score, 0)")},
    )
    high_body, high_body_params = sql_text(HIGH_ACTOR_BODY, {"score": "CAST(r.score AS TEXT)"})
    threshold = "CASE WHEN r.threshold < 1 THEN 1 ELSE r.threshold END"
    sql = f"""
        WITH r AS ({base})
        SELECT r.user_id, 'score_moved' AS kind, {title} AS title, {body} AS body,
               %s AS url, %s AS key, %s AS day
        FROM r WHERE r.prev IS NOT NULL AND ABS({moved}) >= {threshold}
        UNION ALL
        SELECT r.user_id, 'top_influencee', {influencee_title}, %s, %s,
               'top_influencee:' || CAST(r.influencee AS TEXT), %s
        FROM r WHERE %s AND r.influencee IS NOT NULL
             AND (r.prev_influencee IS NULL OR r.influencee <> r.prev_influencee)
        UNION ALL
        SELECT r.user_id, 'top_influencer', {influencer_title}, %s, %s,
               'top_influencer:' || CAST(r.influencer AS TEXT), %s
        FROM r WHERE %s AND r.influencer IS NOT NULL
             AND (r.prev_influencer IS NULL OR r.influencer <> r.prev_influencer)
        UNION ALL
        SELECT r.user_id, 'higher_score_actor', {high_title}, {high_body}, %s,
               'higher_score_actor:' || CAST(r.high_actor AS TEXT), %s
        FROM r WHERE r.high_actor IS NOT NULL
    """
    params: list[Any] = [
        *base_params,
        *title_params,
        *body_params,
        url,
        f"score:{day.isoformat()}",
        day,
        *influencee_params,
        INFLUENCEE_BODY,
        url,
        day,
        has_previous,
        *influencer_params,
        INFLUENCER_BODY,
        url,
        day,
        has_previous,
        *high_title_params,
        *high_body_params,
        url,
        day,
    ]
    return sql, params


def achievement_notices_sql(run: ScoringRun) -> tuple[str, list[Any]]:
    """SELECT of one notice per achievement a person reached in this run, at its highest new
    level (a retired rule's unlocks tell nothing)."""
    table = connection.ops.quote_name(Unlock._meta.db_table)
    rules = " UNION ALL ".join("SELECT %s AS akey, %s AS name, %s AS description" for _ in RULES)
    rule_params: list[Any] = [v for rule in RULES for v in (rule.key, rule.name, rule.description)]
    levels = " ".join("WHEN %s THEN %s" for _ in (1, 2, 3))
    level_params: list[Any] = [v for level in (1, 2, 3) for v in (level, LEVEL_NAMES[level])]
    title, title_params = sql_text(
        ACHIEVEMENT_TITLE, {"name": "r.name", "level": (f"CASE a.top {levels} END", level_params)}
    )
    sql = f"""
        SELECT a.user_id, 'achievement_unlocked' AS kind, {title} AS title,
               r.description AS body, %s AS url,
               'achievement:' || a.achievement || ':' || CAST(a.top AS TEXT) AS key, %s AS day
        FROM (SELECT user_id, achievement, MAX(level) AS top FROM {table}
              WHERE run_id = %s GROUP BY user_id, achievement) a
        JOIN ({rules}) r ON r.akey = a.achievement
    """
    return sql, [*title_params, reverse("achievements"), run.day, run.pk, *rule_params]
