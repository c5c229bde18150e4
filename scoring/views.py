"""Pages for individuals: dashboard, public profiles, search, leaderboards, badge, about the score.

Each page view also serves its HTMX fragments (`template.html#partial`) when htmx targets them.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_GET

from klout.http import AuthedHttpRequest, HtmxHttpRequest
from networks.models import Network, NetworkAccount
from scoring import queries
from scoring.badges import badge_svg
from scoring.charts import history_svg, history_table_rows
from scoring.models import DailyScore, LatestScore


def _targets(request: HtmxHttpRequest, partial: str) -> bool:
    """True when htmx asks for just this fragment (and not for a history restore)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.history_restore_request and htmx.target == partial


def _chart(
    rows: list[queries.HistoryRow],
    held: list[dt.date],
    start: dt.date,
    end: dt.date,
    *,
    title: str,
    day_href: str | None,
) -> dict[str, str]:
    """The history chart and its data table, rendered in Python and cached (the hot path).

    Published rows never change, so their ids, the held days and the labels fully key the markup.
    """
    ids = f"{rows[0].pk}-{rows[-1].pk}-{len(rows)}" if rows else "none"
    held_key = ",".join(d.isoformat() for d in held)
    key = (
        f"scoring:chart:{ids}:{start.isoformat()}:{end.isoformat()}:{held_key}:"
        f"{zlib.crc32(f'{title}|{day_href}'.encode())}"
    )
    cached: dict[str, str] | None = cache.get(key)
    if cached is None:
        points = queries.chart_points(rows)
        cached = {
            "svg": history_svg(
                points, start=start, end=end, held_days=held, title=title, day_href=day_href
            ),
            "table": history_table_rows(points, day_href=day_href),
        }
        cache.set(key, cached, queries.HISTORY_CACHE_SECONDS)
    # charts.py escapes every piece of text it writes, so its markup is safe to embed.
    return {"svg": mark_safe(cached["svg"]), "table": mark_safe(cached["table"])}


def _explanation_context(
    *,
    user_id: int,
    chosen: DailyScore | queries.HistoryRow | None,
    rows: list[queries.HistoryRow] | None,
    day_error: str,
    asked_day: dt.date | None,
) -> dict[str, Any]:
    """The `#explanations` fragment's context: the day's score, its change and its sentences."""
    if chosen is None:
        return {"chosen": None, "explanations": [], "day_error": day_error, "asked_day": asked_day}
    previous: DailyScore | queries.HistoryRow | None
    if rows is not None:
        previous = queries.previous_score(rows, chosen.day)
    else:
        previous = (
            queries.subject_scores(user_id=user_id)
            .filter(day__lt=chosen.day, version_id=chosen.version_id)
            .only("id", "day", "score")
            .order_by("-day")
            .first()
        )
    return {
        "chosen": chosen,
        "change": None if previous is None else chosen.score - previous.score,
        "explanations": queries.explanations_for(chosen.pk),
        "day_error": day_error,
        "asked_day": asked_day,
    }


@require_GET
@login_required
def dashboard(request: AuthedHttpRequest) -> HttpResponse:
    """The signed-in person's score card, history, explanations, people and linked networks."""
    day_error = ""
    try:
        asked_day = queries.parse_day(request.GET.get("day"))
    except queries.BadDay as exc:
        asked_day, day_error = None, str(exc)
    user_id = request.user.pk

    if _targets(request, "explanations"):
        # The fragment needs only the chosen day: no history, no accounts.
        latest = LatestScore.objects.filter(user_id=user_id).only("version_id", "daily_id").first()
        chosen: DailyScore | queries.HistoryRow | None = None
        if latest is not None and asked_day is not None:
            chosen = queries.day_score(
                day=asked_day, user_id=user_id, prefer_version_id=latest.version_id
            )
        elif latest is not None and not day_error:
            chosen = DailyScore.objects.select_related("version").get(pk=latest.daily_id)
        fragment = _explanation_context(
            user_id=user_id, chosen=chosen, rows=None, day_error=day_error, asked_day=asked_day
        )
        return render(request, "scoring/dashboard.html#explanations", fragment)

    # Per request: which score to show, linked accounts (sync state moves on its own) and
    # notifications (reading them must show at once). Everything else is the cached bulk.
    ref = queries.latest_ref(user_id)
    unread_count, unread = queries.unread_notifications(user_id)
    ctx: dict[str, Any] = {
        "accounts": queries.linked_accounts(user_id),
        "unread": unread,
        # Overrides the nav's lazy COUNT: the query above already counted.
        "unread_notification_count": unread_count,
    }
    bulk = (
        _dashboard_bulk(ref, user_id=user_id, asked_day=asked_day, day_error=day_error)
        if ref is not None
        else None
    )
    ctx.update(latest=ref if bulk is not None else None, bulk=bulk)
    return render(request, "scoring/dashboard.html", ctx)


def _bulk_key(user_id: int, pk: int, daily_id: int, asked_day: dt.date | None) -> str:
    day = asked_day.isoformat() if asked_day is not None else "latest"
    return f"scoring:dashboard:{user_id}:{pk}:{daily_id}:{day}"


def _dashboard_bulk(
    ref: queries.LatestRef,
    *,
    user_id: int,
    asked_day: dt.date | None,
    day_error: str,
) -> dict[str, str] | None:
    """The dashboard's cacheable HTML (top: score card, subscores, decay; main: chart, why, cards).

    Keyed by the published score (LatestScore rows are rebuilt on every publish, so a new day
    means new ids), the chosen day and the privacy epoch, which is stored with the HTML and read
    in the same round trip. Rendered without the request: no CSRF token or other per-session
    value can end up in the cache. None when the score vanished meanwhile (an opt-out).
    """
    key = _bulk_key(user_id, ref.pk, ref.daily_id, asked_day)
    cacheable = not day_error  # error messages echo free-form input: not worth a cache entry
    if cacheable:
        found = cache.get_many([key, queries.PRIVACY_EPOCH_KEY])
        epoch = int(found.get(queries.PRIVACY_EPOCH_KEY) or 0)
        hit = found.get(key)
        if hit is not None and hit["epoch"] == epoch:
            # Rendered by our own template with autoescaping, so the markup is safe.
            return {"top": mark_safe(hit["top"]), "main": mark_safe(hit["main"])}
    else:
        epoch = queries.privacy_epoch()

    latest = queries.latest_full(user_id)
    if latest is None:
        return None
    ctx = _bulk_context(latest, user_id=user_id, asked_day=asked_day, day_error=day_error)
    top = render_to_string("scoring/dashboard.html#dashboard-top", ctx)
    main = render_to_string("scoring/dashboard.html#dashboard-main", ctx)
    if cacheable:
        cache.set(
            _bulk_key(user_id, latest.pk, latest.daily_id, asked_day),
            {"epoch": epoch, "top": str(top), "main": str(main)},
            queries.DASHBOARD_CACHE_SECONDS,
        )
    return {"top": top, "main": main}


def _bulk_context(
    latest: LatestScore, *, user_id: int, asked_day: dt.date | None, day_error: str
) -> dict[str, Any]:
    """Everything the cached bulk shows, loaded once per published score and chosen day."""
    score = latest.daily
    end = latest.day
    start = end - dt.timedelta(days=queries.HISTORY_DAYS - 1)
    rows = queries.history(user_id=user_id, end=end, prefer_version_id=latest.version_id)
    by_day: dict[dt.date, DailyScore | queries.HistoryRow] = {r.day: r for r in rows}
    chosen: DailyScore | queries.HistoryRow | None
    if asked_day is None:
        chosen = None if day_error else score
    elif asked_day in by_day:
        chosen = by_day[asked_day]
    else:
        chosen = queries.day_score(
            day=asked_day, user_id=user_id, prefer_version_id=latest.version_id
        )
    circles = queries.people(score.influencers, score.influencees)
    return {
        "latest": latest,
        "score": score,
        "start": start,
        "end": end,
        "chart": _chart(
            rows,
            queries.held_days(start=start, end=end),
            start,
            end,
            title="Your score over the last 90 days",
            day_href="?day=",
        ),
        "recent_days": [(r.day.isoformat(), f"{r.day:%b %-d}") for r in reversed(rows[-14:])],
        "contributions": queries.contributions(score),
        "circles": circles,
        "idle_days": queries.is_idle(score),
        "decay_notice_days": queries.DECAY_NOTICE_DAYS,
        **_explanation_context(
            user_id=user_id, chosen=chosen, rows=rows, day_error=day_error, asked_day=asked_day
        ),
    }


@require_GET
def profile(request: HtmxHttpRequest, network: str, handle: str) -> HttpResponse:
    """A scored public account's page; unknown, protected and opted-out accounts are 404."""
    return _profile(request, queries.find_account(network, handle))


@require_GET
def profile_by_id(request: HtmxHttpRequest, network: str, account_id: int) -> HttpResponse:
    """The same page by the account's id, for handles a URL cannot carry."""
    return _profile(request, queries.find_account_by_id(network, account_id))


def _profile(request: HtmxHttpRequest, account: NetworkAccount | None) -> HttpResponse:
    if account is None:
        raise Http404("No public account with that handle on that network.")
    latest = _latest_of(account)
    if latest is not None and latest.hidden:
        raise Http404("No public account with that handle on that network.")
    ctx: dict[str, Any] = {
        "account": account,
        "network_label": queries.network_label(account.network),
        "latest": latest,
    }
    if latest is not None:
        end = latest.day
        start = end - dt.timedelta(days=queries.HISTORY_DAYS - 1)
        rows = queries.history(account_id=account.pk, end=end, prefer_version_id=latest.version_id)
        ctx.update(
            score=latest.daily,
            chart=_chart(
                rows,
                queries.held_days(start=start, end=end),
                start,
                end,
                title=f"Score of {account.slug} over the last 90 days",
                day_href=None,
            ),
            rows=rows,
            circles=queries.people(latest.daily.influencers, latest.daily.influencees),
        )
    return render(request, "scoring/profile.html", ctx)


def _latest_of(account: NetworkAccount) -> LatestScore | None:
    try:
        return account.latest_score
    except LatestScore.DoesNotExist:
        return None


@require_GET
def search(request: HtmxHttpRequest) -> HttpResponse:
    """Find a scored public account by handle or name; live results through HTMX."""
    q = request.GET.get("q", "")
    error = ""
    results: list[LatestScore] = []
    if len(q) > queries.SEARCH_MAX_CHARS:
        error = (
            f"That search is {len(q):,} characters long; handles and names are at most "
            f"{queries.SEARCH_MAX_CHARS}. Try a shorter part of the name."
        )
    else:
        results = queries.search(q)
    ctx = {
        "q": q[: queries.SEARCH_MAX_CHARS],
        "error": error,
        "results": results,
        "searched": bool(q.strip()),
    }
    template = (
        "scoring/search.html#results" if _targets(request, "results") else "scoring/search.html"
    )
    return render(request, template, ctx)


@require_GET
def leaderboard(request: HtmxHttpRequest, network: str | None = None) -> HttpResponse:
    """The highest scores overall or on one network, 50 to a page."""
    if network is not None and network not in Network.values:
        raise Http404("We do not score that network.")
    paginator = Paginator(queries.leaderboard(network), queries.LEADERBOARD_PAGE_SIZE)
    raw_page = request.GET.get("page", "1")
    notice = ""
    try:
        number = int(raw_page) if len(raw_page) < 12 else -1
    except ValueError:
        number = -1
    if number < 1:
        notice = "That is not a page number; showing the first page."
        number = 1
    elif number > paginator.num_pages:
        notice = (
            f"There is no page {number}; the leaderboard has {paginator.num_pages} "
            f"page{'s' if paginator.num_pages != 1 else ''}. Showing the last one."
        )
        number = paginator.num_pages
    page = paginator.page(number)
    ctx = {
        "page": page,
        "network": network,
        "network_label": queries.network_label(network) if network else "All networks",
        "networks": [(value, label) for value, label in Network.choices],
        "notice": notice,
    }
    return render(request, "scoring/leaderboard.html", ctx)


def _badge_score(request: HtmxHttpRequest, network: str, handle: str) -> LatestScore | None:
    """The visible latest score behind a badge, looked up once per request."""
    if hasattr(request, "_badge_score"):
        cached: LatestScore | None = request._badge_score
        return cached
    found = (
        queries.visible_accounts_scores()
        .filter(network=network, handle=handle)
        .only("id", "score", "day", "version_id")
        .first()
        if network in Network.values and len(handle) <= 255
        else None
    )
    setattr(request, "_badge_score", found)  # noqa: B010 - a per-request memo, not a field
    return found


def _badge_etag(request: HtmxHttpRequest, network: str, handle: str) -> str | None:
    latest = _badge_score(request, network, handle)
    if latest is None:
        return None
    return f"{latest.version_id}-{latest.day.isoformat()}-{round(latest.score)}"


# Caches (browsers, other sites' proxies) may keep a badge this long, then must revalidate it
# with its ETag: after an opt-out the badge stops being served within minutes.
BADGE_MAX_AGE_SECONDS = 300


@require_GET
@cache_control(public=True, max_age=BADGE_MAX_AGE_SECONDS)
@condition(etag_func=_badge_etag)
def badge(request: HtmxHttpRequest, network: str, handle: str) -> HttpResponse:
    """An embeddable SVG badge of the account's current score; cached for minutes, with an ETag."""
    latest = _badge_score(request, network, handle)
    if latest is None:
        raise Http404("No public score for that account.")
    response = HttpResponse(
        badge_svg(score=round(latest.score)), content_type="image/svg+xml; charset=utf-8"
    )
    # Other sites embed the badge as an image; the page-level framing rules do not apply.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _evaluation() -> dict[str, Any] | None:
    """The latest `make evaluate` results, if the file exists and is readable JSON."""
    path = settings.VAR_DIR / "evaluation.json"
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else {"results": loaded}


def _evaluation_tables(
    evaluation: dict[str, Any],
) -> tuple[list[tuple[str, Any]], list[dict[str, Any]]]:
    """Split evaluation JSON into scalar facts and the first list of row-dicts (a table)."""
    facts: list[tuple[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for key, value in evaluation.items():
        if isinstance(value, (str, int, float, bool)):
            facts.append((key.replace("_", " "), _cell(value)))
        elif (
            isinstance(value, list)
            and value
            and all(isinstance(r, dict) for r in value)
            and not rows
        ):
            rows = value
        elif isinstance(value, dict):
            for sub, subvalue in value.items():
                if isinstance(subvalue, (str, int, float, bool)):
                    facts.append((f"{key} {sub}".replace("_", " "), _cell(subvalue)))
    return facts, rows


def _cell(value: Any) -> str:
    """A table cell: floats to three decimals, everything else as text."""
    return f"{value:.3f}" if isinstance(value, float) else str(value)


@require_GET
def about(request: HtmxHttpRequest) -> HttpResponse:
    """How the score works, in plain words, with evaluation results and credits."""
    evaluation = _evaluation()
    facts, rows = _evaluation_tables(evaluation) if evaluation else ([], [])
    columns = list(rows[0].keys()) if rows else []
    ctx = {
        "evaluation": evaluation,
        "facts": facts,
        "columns": columns,
        "rows": [[_cell(row.get(c, "")) for c in columns] for row in rows],
    }
    return render(request, "scoring/about.html", ctx)
