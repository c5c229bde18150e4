"""The read side of scores for pages: a fixed, small number of queries per page.

Everything here reads published runs only and never computes a score; it shapes rows from the
read model (`LatestScore`) and the immutable history (`DailyScore`) for templates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Window
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from networks.models import Network, NetworkAccount, network_label, url_safe_handle
from scoring.charts import ChartPoint
from scoring.models import DailyScore, Explanation, LatestScore, RunStatus, ScoringRun
from scoring.wording import ExplanationLine, render_explanations

HISTORY_DAYS = 90
DECAY_NOTICE_DAYS = 14  # idle this long and the score starts to decay
EARLIEST_DAY = dt.date(2008, 1, 1)  # Klout's first year; older days cannot have scores
SEARCH_MAX_CHARS = 100
SEARCH_LIMIT = 20
LEADERBOARD_PAGE_SIZE = 50
PEOPLE_SHOWN = 5  # top influencers / influencees on a page
# Published history never changes, but a held day may be published late: bound the staleness.
HISTORY_CACHE_SECONDS = 300
HELD_CACHE_SECONDS = 60
# The dashboard's bulk (score card, chart, explanations, summary cards) is cached as HTML per
# published score and per privacy epoch: every opt-out bumps the epoch, so nobody who opted out
# lingers in a cached page. Held-day marks and late backfilled days do not change the latest
# score, so they keep the same bound as the held-days cache.
DASHBOARD_CACHE_SECONDS = HELD_CACHE_SECONDS
PRIVACY_EPOCH_KEY = "scoring:privacy-epoch"
EXPLANATION_CACHE_SECONDS = 3600  # explanations of a daily score are as final as the score


def privacy_epoch() -> int:
    """A counter that changes whenever anyone opts out (part of every cached fragment's key)."""
    return int(cache.get(PRIVACY_EPOCH_KEY) or 0)


def bump_privacy_epoch() -> None:
    """Invalidate every cached fragment that might name someone who just opted out."""
    try:
        cache.incr(PRIVACY_EPOCH_KEY)
    except ValueError:  # not set yet (or evicted): start a new epoch
        cache.set(PRIVACY_EPOCH_KEY, privacy_epoch() + 1, None)


class BadDay(ValueError):
    """A day parameter that is not a date we could have a score for; the message says why."""


def parse_day(raw: str | None, *, today: dt.date | None = None) -> dt.date | None:
    """The day in `?day=YYYY-MM-DD`, None when absent; BadDay with a readable reason otherwise."""
    if raw is None or raw == "":
        return None
    if len(raw) > 10:
        raise BadDay("That is not a date. Use the form YYYY-MM-DD, for example 2026-11-01.")
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise BadDay(
            "That is not a date. Use the form YYYY-MM-DD, for example 2026-11-01."
        ) from None
    today = today or timezone.localdate()
    if day > today:
        raise BadDay(f"{day.isoformat()} is in the future; scores exist only for past days.")
    if day < EARLIEST_DAY:
        raise BadDay(f"{day.isoformat()} is before the first day anyone was scored.")
    return day


def subject_scores(
    *, user_id: int | None = None, account_id: int | None = None
) -> QuerySet[DailyScore]:
    """Published daily scores of one subject (a user or an account)."""
    qs = DailyScore.objects.published()
    if user_id is not None:
        return qs.filter(user_id=user_id)
    return qs.filter(account_id=account_id)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One day of a subject's published history: light enough to load 90 of on every page view."""

    pk: int
    day: dt.date
    score: float
    version_id: int
    version_name: str


def history(
    *,
    user_id: int | None = None,
    account_id: int | None = None,
    end: dt.date,
    days: int = HISTORY_DAYS,
    prefer_version_id: int | None = None,
) -> list[HistoryRow]:
    """One published score per day in the `days` up to `end`, oldest first (one query).

    When two versions scored the same day, the preferred (current) version's row wins.
    """
    subject = f"u{user_id}" if user_id is not None else f"a{account_id}"
    key = f"scoring:history:{subject}:{end.isoformat()}:{days}:{prefer_version_id}"
    cached: list[HistoryRow] | None = cache.get(key)
    if cached is not None:
        return cached
    start = end - dt.timedelta(days=days - 1)
    rows = (
        subject_scores(user_id=user_id, account_id=account_id)
        .filter(day__gte=start, day__lte=end)
        .order_by("day", "version_id")
        .values_list("id", "day", "score", "version_id", "version__name")
    )
    by_day: dict[dt.date, HistoryRow] = {}
    for pk, day, score, version_id, version_name in rows:
        kept = by_day.get(day)
        if kept is None or version_id == prefer_version_id or kept.version_id != prefer_version_id:
            by_day[day] = HistoryRow(pk, day, score, version_id, version_name)
    found = [by_day[d] for d in sorted(by_day)]
    cache.set(key, found, HISTORY_CACHE_SECONDS)
    return found


def chart_points(rows: list[HistoryRow]) -> list[ChartPoint]:
    """History rows as plain chart points."""
    return [ChartPoint(day=r.day, score=r.score, version=r.version_name) for r in rows]


def held_days(*, start: dt.date, end: dt.date) -> list[dt.date]:
    """Days in the window whose scoring run is held back for review (one query, cached a minute)."""

    def load() -> list[dt.date]:
        return sorted(
            set(
                ScoringRun.objects.filter(
                    status=RunStatus.HELD, day__gte=start, day__lte=end
                ).values_list("day", flat=True)
            )
        )

    key = f"scoring:held:{start.isoformat()}:{end.isoformat()}"
    return list(cache.get_or_set(key, load, HELD_CACHE_SECONDS) or [])


def explanations_for(score_id: int) -> list[ExplanationLine]:
    """The sentences that explain one daily score, in order, naming only people the hidden rule
    lets us show right now (the rows are cached; whom they may name is asked on every render,
    in one query when a sentence refers to someone)."""
    rows: list[Explanation] = list(
        cache.get_or_set(
            f"scoring:explanations:{score_id}",
            lambda: list(Explanation.objects.filter(score_id=score_id).order_by("position")),
            EXPLANATION_CACHE_SECONDS,
        )
        or []
    )
    about = {r.about_account_id for r in rows if r.about_account_id is not None}
    shown: dict[int, str] = {}
    if about:
        visible = NetworkAccount.objects.visible().filter(pk__in=about)
        for pk, handle, external_id in visible.values_list("pk", "handle", "external_id"):
            shown[pk] = handle or external_id
    return render_explanations(rows, shown)


def day_score(
    *,
    day: dt.date,
    user_id: int | None = None,
    account_id: int | None = None,
    prefer_version_id: int | None = None,
) -> DailyScore | None:
    """The published score of one subject on one day (current version first), or None."""
    rows = list(
        subject_scores(user_id=user_id, account_id=account_id)
        .filter(day=day)
        .select_related("version")
        .order_by("-version_id")
    )
    for row in rows:
        if row.version_id == prefer_version_id:
            return row
    return rows[0] if rows else None


def previous_score(rows: list[HistoryRow], day: dt.date) -> HistoryRow | None:
    """The history row just before `day`, if the history holds it."""
    before = [r for r in rows if r.day < day]
    return before[-1] if before else None


@dataclass
class Person:
    """An influencer or influencee as a page shows them: name, network, link (None if hidden)."""

    handle: str
    network: str
    network_label: str
    weight: float
    href: str | None


def people(*lists: list[dict[str, Any]], limit: int = PEOPLE_SHOWN) -> list[list[Person]]:
    """Top influencers/influencees with links to public profiles; hidden accounts stay nameless.

    One query for all lists whatever their length: the names of the accounts still visible
    today (stored entries keep only ids, so nobody is named from a frozen row).
    """
    shown = [entries[:limit] for entries in lists]
    ids = {int(e["account_id"]) for entries in shown for e in entries if e.get("account_id")}
    names = (
        {
            pk: handle or external_id
            for pk, handle, external_id in NetworkAccount.objects.visible()
            .filter(id__in=ids)
            .values_list("id", "handle", "external_id")
        }
        if ids
        else {}
    )
    return [[_person(entry, names) for entry in entries] for entries in shown]


def _person(entry: dict[str, Any], names: dict[int, str]) -> Person:
    network = str(entry.get("network", ""))
    weight = float(entry.get("weight", 0.0) or 0.0)
    handle = names.get(int(entry.get("account_id") or 0), "")
    if handle:
        href = profile_url(network, handle, int(entry["account_id"]))
        return Person(handle, network, network_label(network), weight, href)
    # Hidden or deleted since the score was computed: keep the slot, never the name.
    return Person(
        "someone who keeps their account private", network, network_label(network), weight, None
    )


def contributions(score: DailyScore) -> list[tuple[str, int]]:
    """Network shares of a score as (label, percent), largest first."""
    items = sorted(score.network_contributions.items(), key=lambda kv: -float(kv[1] or 0))
    return [(network_label(k), round(float(v or 0) * 100)) for k, v in items]


def unread_notifications(user_id: int, limit: int = 3) -> tuple[int, list[Any]]:
    """(how many unread notifications, the newest `limit` of them) in one query, however many."""
    newest = list(
        Notification.objects.filter(user_id=user_id, read_at__isnull=True)
        # The window counts every unread row before LIMIT keeps the newest few.
        .annotate(unread_total=Window(Count("pk")))
        .order_by("-created_at", "-pk")[:limit]
    )
    return (newest[0].unread_total if newest else 0), newest


@dataclass(frozen=True, slots=True)
class LatestRef:
    """Which published score a person's dashboard shows: enough to key its cached HTML."""

    pk: int
    daily_id: int
    version_id: int
    day: dt.date


def latest_ref(user_id: int) -> LatestRef | None:
    """The person's latest published score, as ids only (one light query)."""
    # One row per user (a one-to-one), so no ORDER BY: `.first()` would add one.
    rows = LatestScore.objects.filter(user_id=user_id).values_list(
        "pk", "daily_id", "version_id", "day"
    )[:1]
    return next((LatestRef(*row) for row in rows), None)


def linked_accounts(user_id: int) -> list[NetworkAccount]:
    """The person's linked network accounts with their sync state (one query)."""
    return list(NetworkAccount.objects.claimed_by(user_id).order_by("network", "handle"))


def latest_full(user_id: int) -> LatestScore | None:
    """The person's latest score with its daily row and version, to render the bulk from."""
    return LatestScore.objects.filter(user_id=user_id).select_related("daily", "version").first()


def is_idle(score: DailyScore, *, now: dt.datetime | None = None) -> int | None:
    """Days idle as of the score's own day, when that is long enough to decay, else None.

    Measured against the scored day, not the wall clock: a score describes its day.
    """
    if score.last_activity_at is None:
        return None
    end_of_day = dt.datetime.combine(score.day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    idle = ((now or end_of_day) - score.last_activity_at).days
    return idle if idle >= DECAY_NOTICE_DAYS else None


def profile_url(network: str, handle: str, account_id: int | str) -> str:
    """A profile's address: by handle when a URL can carry it, else by the account's id."""
    if url_safe_handle(handle):
        return reverse("profile", kwargs={"network": network, "handle": handle})
    return reverse("profile_by_id", kwargs={"network": network, "account_id": int(account_id)})


def find_account_by_id(network: str, account_id: int) -> NetworkAccount | None:
    """A visible public account by network and id, else None (one query)."""
    if network not in Network.values:
        return None
    return (
        NetworkAccount.objects.visible()
        .filter(network=network, pk=account_id)
        .select_related("latest_score", "latest_score__daily", "latest_score__version")
        .first()
    )


def find_account(network: str, handle: str) -> NetworkAccount | None:
    """A visible public account by network and handle (or external id), else None (one query)."""
    if len(handle) > 255 or network not in Network.values:
        return None
    return (
        NetworkAccount.objects.visible()
        .filter(network=network)
        .filter(Q(handle=handle) | Q(handle="", external_id=handle))
        .select_related("latest_score", "latest_score__daily", "latest_score__version")
        .first()
    )


def visible_accounts_scores() -> QuerySet[LatestScore]:
    """Read-model rows of accounts that may be shown (the one hidden rule, checked again)."""
    return (
        LatestScore.objects.visible()
        .filter(account__isnull=False)
        .exclude(account_id__in=NetworkAccount.objects.hidden_ids())
    )


def search(q: str) -> list[LatestScore]:
    """Visible scored accounts whose handle starts with, or name contains, `q` (one query)."""
    q = q.strip().lstrip("@")
    if not q:
        return []
    return list(
        visible_accounts_scores()
        .filter(Q(handle__istartswith=q) | Q(display_name__icontains=q))
        .order_by("-score", "handle")[:SEARCH_LIMIT]
    )


def leaderboard(network: str | None = None) -> QuerySet[LatestScore]:
    """Visible scored accounts, highest first, overall or on one network."""
    qs = visible_accounts_scores()
    if network:
        qs = qs.filter(network=network)
    return qs.order_by("-score", "handle", "id")
