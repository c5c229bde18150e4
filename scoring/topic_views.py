"""Pages for topics, +K and public person profiles (`/p/<kloutId>`).

Each view serves its page and, for htmx, its fragment (`template.html#partial`); every form
works without JavaScript too (the +K button posts a plain form and redirects back).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from klout.http import AuthedHttpRequest, HtmxHttpRequest
from klout.paging import page_of
from networks.models import NetworkAccount
from scoring import queries
from scoring.kloutids import (
    Subject,
    existing_klout_id,
    klout_id_of,
    klout_ids_of,
    resolve_klout_id,
    set_profile_slug,
)
from scoring.models import LatestScore
from scoring.plusk import (
    DAILY_LIMIT,
    PlusK,
    PlusKError,
    eligibility_problem,
    give_plus_k,
    remaining_today,
    take_back_plus_k,
)
from scoring.topic_services import add_topic, hide_topic, unhide_topic
from scoring.topics import ChoiceState, Topic, TopicChoice, TopicScore

BOARD_SIZE = 25
PLUS_K_PAGE_SIZE = 20  # +K given or received to a page, newest first


def _safe_next(request: HtmxHttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def subject_topics(
    subject: Subject, *, viewer_id: int | None, limit: int = 10, topic_id: str | None = None
) -> list[dict[str, Any]]:
    """A subject's shown topics (latest published run), with evidence and the viewer's +K.

    With `topic_id`, that one topic only (the +K button's fragment), whatever its rank.
    """
    shown = (
        TopicScore.objects.current()
        .shown()
        .for_subject(user_id=subject.user_id, account_id=subject.account_id)
    )
    if topic_id is not None:
        shown = shown.filter(topic_id=topic_id)
    rows = list(shown.select_related("topic")[:limit])
    receiver = int(subject.klout_id)
    counts, given = _plus_k_on(
        receivers=[receiver], topic_ids=[r.topic_id for r in rows], viewer_id=viewer_id
    )
    return [
        {
            "row": r,
            "topic": r.topic,
            "plus_k": counts.get((receiver, r.topic_id), 0),
            "mine": given.get((receiver, r.topic_id)),
        }
        for r in rows
    ]


def _plus_k_on(
    *, receivers: list[int], topic_ids: list[str], viewer_id: int | None
) -> tuple[dict[tuple[int, str], int], dict[tuple[int, str], PlusK]]:
    """Live +K counts per (receiver kloutId, topic), and the viewer's own within the week."""
    if not receivers or not topic_ids:
        return {}, {}
    live = PlusK.objects.live().filter(receiver_klout_id__in=receivers, topic_id__in=topic_ids)
    counts = {
        (k, t): n
        for k, t, n in live.values("receiver_klout_id", "topic_id")
        .annotate(n=Count("pk"))
        .values_list("receiver_klout_id", "topic_id", "n")
    }
    given: dict[tuple[int, str], PlusK] = {}
    if viewer_id is not None:
        since = timezone.now() - dt.timedelta(days=7)
        mine = live.filter(giver_id=viewer_id, created_at__gte=since).order_by("created_at")
        given = {(k.receiver_klout_id, k.topic_id): k for k in mine}
    return counts, given


def _allowance(request: HtmxHttpRequest) -> dict[str, Any]:
    if not request.user.is_authenticated:
        return {"can_give": False, "remaining": 0, "why_not": "Sign in to give +K."}
    why_not = eligibility_problem(user_id=request.user.pk)
    return {
        "can_give": not why_not,
        "remaining": remaining_today(user_id=request.user.pk),
        "why_not": why_not,
        "daily_limit": DAILY_LIMIT,
    }


# --- public person profile --------------------------------------------------------------------


@require_GET
def person(request: HtmxHttpRequest, ref: str) -> HttpResponse:
    """A person's public profile by kloutId or chosen slug; hidden people are 404."""
    subject = _subject_for(ref)
    if subject is None:
        raise Http404("Nobody with that Klout id.")
    if subject.account_id is not None:
        account = NetworkAccount.objects.visible().filter(pk=subject.account_id).first()
        if account is None:
            raise Http404("Nobody with that Klout id.")
        return redirect(queries.profile_url(account.network, account.handle, account.pk))
    assert subject.user_id is not None
    user = get_user_model().objects.filter(pk=subject.user_id, opted_out=False).first()
    if user is None:
        raise Http404("Nobody with that Klout id.")
    slug = _slug_of(user.pk)
    canonical = slug or subject.klout_id
    if ref != canonical:
        return redirect("person", canonical, permanent=False)
    latest = LatestScore.objects.filter(user_id=user.pk).select_related("daily").first()
    if latest is not None and latest.hidden:
        raise Http404("Nobody with that Klout id.")
    viewer_id = request.user.pk if request.user.is_authenticated else None
    ctx: dict[str, Any] = {
        "person": user,
        "subject": subject,
        "latest": latest,
        "score": latest.daily if latest else None,
        "topics": subject_topics(subject, viewer_id=viewer_id),
        "plus_k_received": PlusK.objects.live().to_subject(user_id=user.pk).count(),
        "plus_k_recent": _plus_k_history(receiver_user_id=user.pk),
        "is_self": viewer_id == user.pk,
        "receiver_name": user.public_name,
        **_allowance(request),
    }
    if latest is not None:
        ctx["circles"] = queries.people(latest.daily.influencers, latest.daily.influencees)
    if _targets(request, "topics"):
        return render(request, "scoring/person.html#topics", ctx)
    return render(request, "scoring/person.html", ctx)


def _targets(request: HtmxHttpRequest, partial: str) -> bool:
    htmx = request.htmx
    return bool(htmx) and not htmx.history_restore_request and htmx.target == partial


def _subject_for(ref: str) -> Subject | None:
    if ref.isdigit():
        return resolve_klout_id(ref)
    from scoring.kloutids import ProfileSlug

    user_id = ProfileSlug.objects.filter(slug=ref.lower()).values_list("user_id", flat=True).first()
    if user_id is None:
        return None
    return Subject(klout_id=klout_id_of(user_id=user_id), user_id=user_id)


def _slug_of(user_id: int) -> str:
    from scoring.kloutids import ProfileSlug

    return ProfileSlug.objects.filter(user_id=user_id).values_list("slug", flat=True).first() or ""


def _plus_k_rows(
    *, receiver_user_id: int | None = None, giver_id: int | None = None
) -> QuerySet[PlusK]:
    """Live +K to or from a person, newest first."""
    qs = PlusK.objects.live().select_related("topic", "giver", "receiver_user", "receiver_account")
    if receiver_user_id is not None:
        qs = qs.filter(receiver_user_id=receiver_user_id)
    if giver_id is not None:
        qs = qs.filter(giver_id=giver_id)
    return qs.order_by("-created_at", "-pk")


def _plus_k_history(
    *, receiver_user_id: int | None = None, giver_id: int | None = None
) -> list[PlusK]:
    """The latest ten (a profile's "recent +K"; /plusk/ pages through them all)."""
    return list(_plus_k_rows(receiver_user_id=receiver_user_id, giver_id=giver_id)[:10])


def person_url(*, user_id: int | None = None, account_id: int | None = None) -> str:
    """Where a subject's public page is (a person's by slug or kloutId)."""
    if user_id is not None:
        return reverse("person", args=[_slug_of(user_id) or klout_id_of(user_id=user_id)])
    return reverse("person", args=[klout_id_of(account_id=account_id)])


def find_topics(q: str, limit: int = 5) -> list[Topic]:
    """Topics whose name or an alias starts with the (normalised) query, broadest first."""
    from scoring.engine.topic_names import normalise
    from scoring.topics import TopicAlias

    norm = normalise(q)
    if len(norm) < 2:
        return []
    ids = TopicAlias.objects.filter(alias__startswith=norm).values("topic_id")
    return list(Topic.objects.filter(pk__in=ids).order_by("depth", "display_name")[:limit])


# --- topics -----------------------------------------------------------------------------------


@require_GET
def topics(request: HtmxHttpRequest) -> HttpResponse:
    """Browse the ontology's top categories and their sub topics."""
    children = Topic.objects.order_by("display_name")
    categories = Topic.objects.categories().prefetch_related(
        Prefetch("child_links__child", queryset=children)
    )
    q = (request.GET.get("q") or "").strip()[:100]
    found = (
        list(Topic.objects.filter(display_name__icontains=q).order_by("depth", "display_name")[:30])
        if q
        else []
    )
    return render(
        request, "scoring/topics.html", {"categories": categories, "q": q, "found": found}
    )


@require_GET
def topic_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """A topic: top people by topic score, parents, children, the most +K'd."""
    topic = get_object_or_404(Topic, slug=slug)
    # An account scored on its own before its person claimed it keeps its row until the next run:
    # read a few more rows and keep one per kloutId (the person), under the person's name.
    board = list(
        TopicScore.objects.current()
        .shown()
        .filter(topic=topic)
        .exclude(user__opted_out=True)
        .exclude(account__in=NetworkAccount.objects.hidden_ids())
        .select_related("user", "account__user", "topic")
        .order_by("-score", "pk")[: BOARD_SIZE * 2]
    )
    users, accounts = klout_ids_of(
        user_ids=[r.user_id for r in board if r.user_id],
        account_ids=[r.account_id for r in board if r.account_id],
    )
    rows: list[dict[str, Any]] = []
    listed: set[str] = set()
    for score in board:
        who = _who(score, users, accounts)
        if who["klout_id"] not in listed and len(rows) < BOARD_SIZE:
            listed.add(who["klout_id"])
            rows.append({"row": score, **who})
    viewer_id = request.user.pk if request.user.is_authenticated else None
    counts, given = _plus_k_on(
        receivers=[int(r["klout_id"]) for r in rows], topic_ids=[topic.pk], viewer_id=viewer_id
    )
    for r in rows:
        key = (int(r["klout_id"]), topic.pk)
        r["plus_k"] = {"topic": topic, "plus_k": counts.get(key, 0), "mine": given.get(key)}
        owner = r["row"].user_id or (r["row"].account and r["row"].account.user_id)
        r["is_self"] = viewer_id is not None and owner == viewer_id
    most_plus_k = _most_plus_k(topic)
    parents = Topic.objects.filter(child_links__child=topic).order_by("display_name")
    kids = Topic.objects.filter(parent_links__parent=topic).order_by("display_name")[:60]
    ctx = {
        "topic": topic,
        "rows": rows,
        "parents": list(parents),
        "children": list(kids),
        "most_plus_k": most_plus_k,
        **_allowance(request),
    }
    if _targets(request, "board"):
        return render(request, "scoring/topic_detail.html#board", ctx)
    return render(request, "scoring/topic_detail.html", ctx)


def _most_plus_k(topic: Topic, limit: int = 5) -> list[dict[str, Any]]:
    """The subjects given most +K on a topic, by name; hidden people and accounts never listed."""
    counted = (
        PlusK.objects.live()
        .filter(topic=topic)
        .exclude(receiver_user__opted_out=True)
        .exclude(receiver_account__opted_out=True)
        .exclude(receiver_account__protected=True)
        .values("receiver_klout_id", "receiver_user", "receiver_account")
        .annotate(n=Count("pk"))
        .order_by("-n", "receiver_klout_id")[:limit]
    )
    rows = list(counted)
    people = {
        u.pk: u.public_name
        for u in get_user_model().objects.filter(
            pk__in=[r["receiver_user"] for r in rows if r["receiver_user"]]
        )
    }
    accounts = {
        a.pk: a.display_name or a.slug
        for a in NetworkAccount.objects.visible().filter(
            pk__in=[r["receiver_account"] for r in rows if r["receiver_account"]]
        )
    }
    named = []
    for r in rows:
        if r["receiver_user"]:
            name = people.get(r["receiver_user"])
        else:
            name = accounts.get(r["receiver_account"])
        if name:
            named.append({"klout_id": str(r["receiver_klout_id"]), "name": name, "n": r["n"]})
    return named


def _who(row: TopicScore, users: dict[int, str], accounts: dict[int, str]) -> dict[str, str]:
    """A board row's name and kloutId."""
    if row.user is not None:
        return {"name": row.user.public_name, "klout_id": users[row.user.pk]}
    assert row.account is not None
    account = row.account
    name = account.user.public_name if account.user is not None else account.display_name
    return {"name": name or account.slug, "klout_id": accounts[account.pk]}


# --- +K ---------------------------------------------------------------------------------------


@require_POST
@login_required
def give(request: AuthedHttpRequest) -> HttpResponse:
    """Give +K (htmx: the button's fragment; plain form: back to the page with a message)."""
    klout_id = (request.POST.get("klout_id") or "").strip()
    topic_id = (request.POST.get("topic_id") or "").strip()
    error = ""
    try:
        give_plus_k(giver_id=request.user.pk, klout_id=klout_id, topic_id=topic_id)
    except PlusKError as exc:
        error = str(exc)
    if request.htmx:
        return _button(request, resolve_klout_id(klout_id), topic_id, error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "+K given.")
    return HttpResponseRedirect(_safe_next(request, reverse("topics")))


def _button(
    request: AuthedHttpRequest, subject: Subject | None, topic_id: str, error: str
) -> HttpResponse:
    """The +K button's fragment for one subject and topic, with the allowance out of band."""
    item = None
    if subject is not None:
        found = subject_topics(subject, viewer_id=request.user.pk, topic_id=topic_id, limit=1)
        item = found[0] if found else None
    ctx = {
        "t": item,
        "subject": subject,
        "receiver_name": _name_of(subject) if item is not None else "",
        "error": error,
        "here": request.htmx.current_url_abs_path or "",  # the page the button is on
        **_allowance(request),
    }
    # htmx swaps 2xx only: the fragment carries the error in words
    return render(request, "scoring/_plus_k.html", {**ctx, "oob": True})


def _name_of(subject: Subject | None) -> str:
    """How a subject is named on its +K button."""
    if subject is not None and subject.user_id is not None:
        user = get_user_model().objects.filter(pk=subject.user_id).first()
        return user.public_name if user is not None else ""
    if subject is not None and subject.account_id is not None:
        account = NetworkAccount.objects.filter(pk=subject.account_id).first()
        return (account.display_name or account.slug) if account is not None else ""
    return ""


@require_POST
@login_required
def take_back(request: AuthedHttpRequest, plus_k_id: int) -> HttpResponse:
    """Take back one's +K within the hour (htmx: the button's fragment; plain form: back)."""
    error = ""
    try:
        plus_k = take_back_plus_k(giver_id=request.user.pk, plus_k_id=plus_k_id)
    except PlusKError as exc:
        error = str(exc)
    if request.htmx:
        if error:
            return render(request, "scoring/_plus_k.html", {"t": None, "error": error})
        subject = Subject(
            klout_id=str(plus_k.receiver_klout_id),
            user_id=plus_k.receiver_user_id,
            account_id=plus_k.receiver_account_id,
        )
        return _button(request, subject, plus_k.topic_id, "")
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "+K taken back; you can give it again today.")
    return HttpResponseRedirect(_safe_next(request, reverse("plus_k_history")))


@require_GET
@login_required
def plus_k_history(request: AuthedHttpRequest) -> HttpResponse:
    """Both sides of +K: what the person gave (take back within the hour) and received.

    Each list pages on its own (`?given=N`, `?received=N`), newest first.
    """
    given = page_of(
        request, _plus_k_rows(giver_id=request.user.pk), PLUS_K_PAGE_SIZE, param="given"
    )
    received = page_of(
        request,
        _plus_k_rows(receiver_user_id=request.user.pk),
        PLUS_K_PAGE_SIZE,
        param="received",
    )
    return render(
        request,
        "scoring/plus_k_history.html",
        {
            "given": given.rows,
            "given_page": given,
            "received": received.rows,
            "received_page": received,
            **_allowance(request),
        },
    )


# --- a person's own topics: hide, add -----------------------------------------------------------


@require_POST
@login_required
def choose_topic(request: AuthedHttpRequest) -> HttpResponse:
    """Hide, unhide or add one of one's topics (plain form; redirects back to the dashboard)."""
    action = request.POST.get("action", "")
    topic_ref = (request.POST.get("topic") or "").strip()
    topic = (
        Topic.objects.filter(pk=topic_ref).first()
        or Topic.objects.filter(slug=topic_ref.lower()).first()
        or Topic.objects.filter(display_name__iexact=topic_ref).first()
    )
    if not topic_ref:
        messages.error(request, "Type the name of a topic to add, such as Photography.")
    elif topic is None:
        messages.error(request, f"No topic called {topic_ref!r} in the Klout ontology.")
    elif action == "hide":
        hide_topic(user_id=request.user.pk, topic_id=topic.pk)
        messages.success(request, f"{topic.display_name} is hidden and will not be used.")
    elif action == "unhide":
        unhide_topic(user_id=request.user.pk, topic_id=topic.pk)
        messages.success(request, f"{topic.display_name} is shown again.")
    elif action == "add":
        add_topic(user_id=request.user.pk, topic_id=topic.pk)
        messages.success(
            request, f"{topic.display_name} added; it counts more as evidence arrives."
        )
    else:
        messages.error(request, "Unknown action.")
    return HttpResponseRedirect(_safe_next(request, reverse("dashboard")))


@require_POST
@login_required
def profile_address(request: AuthedHttpRequest) -> HttpResponse:
    """Choose one's public profile address (`/p/<slug>`); plain form, back to the dashboard."""
    try:
        row = set_profile_slug(user_id=request.user.pk, slug=request.POST.get("slug", ""))
        messages.success(request, f"Your public profile is now at /p/{row.slug}/.")
    except ValueError as exc:
        messages.error(request, str(exc)[:1].upper() + str(exc)[1:] + ".")
    return HttpResponseRedirect(reverse("dashboard"))


def dashboard_topics(user_id: int) -> dict[str, Any]:
    """The dashboard's topics card: shown topics with evidence, and what the person hid."""
    own = existing_klout_id(user_id=user_id)
    if own is None:  # never scored: no topics yet (ids come with the first published score)
        return {"my_topics": [], "hidden_topics": [], "my_klout_id": None}
    subject = Subject(klout_id=own, user_id=user_id)
    return {
        "my_topics": subject_topics(subject, viewer_id=user_id),
        "hidden_topics": list(
            TopicChoice.objects.filter(user_id=user_id, state=ChoiceState.HIDDEN).select_related(
                "topic"
            )
        ),
        "my_klout_id": subject.klout_id,
    }
