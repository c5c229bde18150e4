"""Cards: every figure the API's answers need about a subject, read from the published read model.

A card is a plain dict (JSON-ready). Cards are built in bulk when a day is published and cached in
Redis as pre-serialised answers (`scoring.api.documents`); the same builder answers from the
database when the cache has nothing (or Redis is away). Only visible subjects get a card.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from networks.models import NetworkAccount
from scoring.api.identity import TWITTER_NETWORKS, Subject, klout_ids_of
from scoring.models import DailyScore, LatestScore

FIVE_DAYS = dt.timedelta(days=5)


def _visible_latest() -> Any:
    """Read-model rows whose subject may be served (the read model is scrubbed on opt-out too;
    this also covers protected accounts and people who opted out a moment ago)."""
    return (
        LatestScore.objects.visible()
        .filter(
            Q(user__isnull=False, user__opted_out=False, user__is_active=True)
            | Q(
                account__isnull=False,
                account__protected=False,
                account__opted_out=False,
            )
        )
        .exclude(account__user__opted_out=True)
    )


def _subject_filter(pairs: Iterable[tuple[int | None, int | None]]) -> Q:
    """Rows of these (user id, account id) subjects."""
    pairs = list(pairs)
    users = [u for u, _ in pairs if u is not None]
    accounts = [a for u, a in pairs if u is None and a is not None]
    return Q(user_id__in=users) | Q(account_id__in=accounts)


LATEST_FIELDS = (
    "user_id",
    "account_id",
    "version_id",
    "version__name",
    "day",
    "score",
    "change_1d",
    "change_7d",
    "change_30d",
    "network",
    "handle",
    "display_name",
    "daily__true_reach",
    "daily__amplification",
    "daily__network_score",
    "daily__style",
    "daily__style_reasons",
    "daily__influencers",
    "daily__influencees",
    "daily__influencers_count",
    "daily__influencees_count",
    "daily__run__decided_at",
)


def cards_for(subjects: list[Subject]) -> dict[str, dict[str, Any]]:
    """Cards of the visible subjects among `subjects`, keyed by kloutId (a few queries)."""
    if not subjects:
        return {}
    return build_cards(
        list(
            _visible_latest()
            .filter(_subject_filter((s.user_id, s.account_id) for s in subjects))
            .values(*LATEST_FIELDS)
        )
    )


def build_cards(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Cards from LatestScore rows (`LATEST_FIELDS`): five more queries however many rows."""
    if not rows:
        return {}
    five = _five_days_before(rows)
    people = _people(
        [
            *(p for r in rows for p in r["daily__influencers"]),
            *(p for r in rows for p in r["daily__influencees"]),
        ]
    )
    twitter = _twitter_accounts(rows)
    topics = _topics(rows)
    by_user, by_account = klout_ids_of(
        user_ids=[r["user_id"] for r in rows if r["user_id"] is not None],
        account_ids=[r["account_id"] for r in rows if r["account_id"] is not None],
    )
    cards: dict[str, dict[str, Any]] = {}
    for row in rows:
        subject_key = (
            ("u", row["user_id"]) if row["user_id"] is not None else ("a", row["account_id"])
        )
        kid = (
            by_user[row["user_id"]] if row["user_id"] is not None else by_account[row["account_id"]]
        )
        past = five.get(subject_key)
        reasons = row["daily__style_reasons"] or []
        tw = twitter.get(subject_key)
        influencers = _briefs(row["daily__influencers"], people, kid)
        influencees = _briefs(row["daily__influencees"], people, kid)
        cards[kid] = {
            "kloutId": kid,
            "kind": "person" if row["user_id"] is not None else "account",
            "nick": row["handle"] or row["display_name"] or kid,
            "name": row["display_name"],
            "network": row["network"],
            "day": row["day"].isoformat(),
            "published_at": _published_at(row),
            "version": row["version__name"],
            "score": row["score"],
            "change_1d": row["change_1d"],
            "change_5d": None if past is None else round(row["score"] - past, 2),
            "change_7d": row["change_7d"],
            "change_30d": row["change_30d"],
            "true_reach": row["daily__true_reach"],
            "amplification": row["daily__amplification"],
            "network_score": row["daily__network_score"],
            "style": row["daily__style"],
            "style_reason": reasons[0] if reasons else "",
            # The top five are kept per day; the totals are counted by the run (rows written
            # before it counted them say 0: their lists are the floor).
            "influencers_count": max(row["daily__influencers_count"], len(influencers)),
            "influencees_count": max(row["daily__influencees_count"], len(influencees)),
            "influencers": influencers,
            "influencees": influencees,
            "topics": topics.get(subject_key, []),
            "twitter_id": tw[0] if tw else "",
            "twitter_screen_name": tw[1] if tw else "",
        }
    return cards


TOPICS_SHOWN = 10


def _topics(rows: list[dict[str, Any]]) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """The shown topics of each subject in the latest published run, best first (one query)."""
    from scoring.topics import TopicScore

    pairs = [(r["user_id"], r["account_id"]) for r in rows]
    out: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    scores = (
        TopicScore.objects.current()
        .shown()
        .filter(_subject_filter(pairs))
        .order_by("rank", "topic_id")
        .values_list(
            "user_id",
            "account_id",
            "topic_id",
            "topic__display_name",
            "topic__slug",
            "topic__topic_type",
            "score",
            "posts",
            "reactions",
            "reactors",
        )
    )
    for (
        user_id,
        account_id,
        topic_id,
        name,
        slug,
        kind,
        score,
        posts,
        reactions,
        reactors,
    ) in scores:
        key = ("u", user_id) if user_id is not None else ("a", account_id)
        if len(out[key]) < TOPICS_SHOWN:
            out[key].append(
                {
                    "id": str(topic_id),
                    "displayName": name,
                    "name": name,
                    "slug": slug,
                    "imageUrl": "",
                    "topicType": kind,
                    "score": round(score, 2),
                    "evidence": posts,
                    "reactions": reactions,
                    "reactors": reactors,
                }
            )
    return out


def _published_at(row: dict[str, Any]) -> str:
    """When the day was published (runs published before that was recorded: the day's end)."""
    decided = row["daily__run__decided_at"]
    if decided is None:
        decided = dt.datetime.combine(row["day"] + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return decided.astimezone(dt.UTC).isoformat(timespec="seconds")


def _five_days_before(rows: list[dict[str, Any]]) -> dict[tuple[str, int], float]:
    by_day: dict[tuple[int, dt.date], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_day[(row["version_id"], row["day"] - FIVE_DAYS)].append(row)
    condition = Q(pk__in=[])
    for (version_id, day), group in by_day.items():
        condition |= Q(version_id=version_id, day=day) & _subject_filter(
            (r["user_id"], r["account_id"]) for r in group
        )
    out: dict[tuple[str, int], float] = {}
    for user_id, account_id, score in (
        DailyScore.objects.published()
        .filter(condition)
        .values_list("user_id", "account_id", "score")
    ):
        out[("u", user_id) if user_id is not None else ("a", account_id)] = score
    return out


def _people(entries: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Brief cards of the influencer/influencee accounts still visible, by account id."""
    account_ids = {int(e["account_id"]) for e in entries if e.get("account_id") is not None}
    if not account_ids:
        return {}
    accounts = {
        pk: (user_id, handle or external_id)
        for pk, user_id, handle, external_id in NetworkAccount.objects.visible()
        .filter(pk__in=account_ids)
        .values_list("pk", "user_id", "handle", "external_id")
    }
    users = {u for u, _ in accounts.values() if u is not None}
    subjects = [(u, None) for u in users] + [
        (None, pk) for pk, (u, _) in accounts.items() if u is None
    ]
    latest = {
        ("u", r["user_id"]) if r["user_id"] is not None else ("a", r["account_id"]): r
        for r in _visible_latest()
        .filter(_subject_filter(subjects))
        .values("user_id", "account_id", "score", "change_1d", "change_7d", "change_30d", "handle")
    }
    _, kids = klout_ids_of(account_ids=list(accounts))
    out: dict[int, dict[str, Any]] = {}
    for pk, (user_id, screen_name) in accounts.items():
        key = ("u", user_id) if user_id is not None else ("a", pk)
        row = latest.get(key)
        if row is None:
            continue
        out[pk] = {
            "kloutId": kids[pk],
            "nick": row["handle"] or screen_name,
            "screen_name": screen_name,
            "score": row["score"],
            "change_1d": row["change_1d"],
            "change_7d": row["change_7d"],
            "change_30d": row["change_30d"],
        }
    return out


def _briefs(
    entries: list[dict[str, Any]], people: dict[int, dict[str, Any]], own: str
) -> list[dict[str, Any]]:
    out = []
    seen = {own}
    for entry in entries:
        brief = people.get(int(entry.get("account_id") or 0))
        if brief is not None and brief["kloutId"] not in seen:
            seen.add(brief["kloutId"])
            out.append(brief)
    return out


def _twitter_accounts(rows: list[dict[str, Any]]) -> dict[tuple[str, int], tuple[str, str]]:
    """(twitter id, screen name) of each subject's Twitter-origin account, if it has one."""
    user_ids = [r["user_id"] for r in rows if r["user_id"] is not None]
    account_ids = [
        r["account_id"]
        for r in rows
        if r["account_id"] is not None and r["network"] in TWITTER_NETWORKS
    ]
    out: dict[tuple[str, int], tuple[str, str]] = {}
    if not user_ids and not account_ids:
        return out
    for pk, user_id, handle, external_id in (
        NetworkAccount.objects.visible()
        .filter(Q(user_id__in=user_ids) | Q(pk__in=account_ids), network__in=TWITTER_NETWORKS)
        .order_by("-pk")
        .values_list("pk", "user_id", "handle", "external_id")
    ):
        key = ("a", pk) if pk in account_ids else ("u", user_id)
        out[key] = (external_id, handle or external_id)
    return out
