"""The original Klout API, v2 and v1, answered unchanged (`../shared/specs/klout-api.md`).

Plain Django views (no DRF: these answers are fixed bytes, not negotiated). Every call needs
`key=`; parameter order does not matter and unknown parameters are ignored, as clients send them.
Errors are real statuses with the original's JSON bodies; over quota is 403 here (Klout's choice).
A `callback=` wraps the JSON (JSONP); gzip is used when the client accepts it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from accounts.api_keys import Gate
from scoring.api import shapes
from scoring.api.access import gate, rate_limit_headers
from scoring.api.documents import current_epoch, fetch_cards
from scoring.api.identity import (
    NETWORK_CODES,
    find_accounts,
    find_subject,
    resolve_klout_id,
    subject_of_account,
    twitter_account_of,
)

JSON = "application/json; charset=utf-8"
CALLBACK = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$.]{0,99}$")
V1_MAX_USERS = 5
BAD_KEY = "Invalid or unprovided API key. All calls must have a key."
OVER_QPS = "Account Over Queries Per Second Limit"
OVER_DAY = "Account Over Rate Limit"
NOT_FOUND = "User not found."


def respond(request: HttpRequest, body: bytes, status: int = 200) -> HttpResponse:
    """A legacy answer: JSON (or JSONP with a valid `callback=`), readable from any origin."""
    callback = request.GET.get("callback")
    if callback:
        if not CALLBACK.match(callback):
            body, status, callback = (
                shapes.dumps({"error": 400, "description": "Invalid callback name."}),
                400,
                None,
            )
        else:
            body = callback.encode() + b"(" + body + b")"
    response = HttpResponse(body, status=status, content_type=JSON)
    response["Access-Control-Allow-Origin"] = "*"
    response["Vary"] = "Accept-Encoding"
    return response


def _v2_error(request: HttpRequest, status: int, description: str) -> HttpResponse:
    return respond(request, shapes.dumps({"error": status, "description": description}), status)


def _v1_error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return respond(request, shapes.dumps({"status": status, "error": message}), status)


def _refused(result: Gate) -> tuple[int, str] | None:
    if result.key is None:
        return 403, BAD_KEY
    if result.over_quota:
        return 403, OVER_QPS if result.over_second else OVER_DAY
    return None


def _v2(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    return require_GET(gzip_page(view))


# --- v2 ------------------------------------------------------------------------------------------


def _v2_document(request: HttpRequest, klout_id: str, field: str) -> HttpResponse:
    """A subject's cached answer (no database query), else from the database."""
    result = gate(request, klout_id=klout_id, field=field)
    refused = _refused(result)
    if refused:
        return rate_limit_headers(_v2_error(request, *refused), result)
    body = result.document
    if body is None:
        epoch = result.epoch if result.epoch is not None else current_epoch()
        subject = resolve_klout_id(klout_id)
        card = fetch_cards([subject], epoch=epoch).get(subject.klout_id) if subject else None
        if card is None:
            return rate_limit_headers(_v2_error(request, 404, NOT_FOUND), result)
        body = shapes.dumps(_render(field, card))
    return rate_limit_headers(respond(request, body), result)


def _render(field: str, card: dict[str, Any]) -> Any:
    from scoring.api.documents import RENDERERS

    return RENDERERS[field](card)


@_v2
def v2_user(request: HttpRequest, klout_id: str) -> HttpResponse:
    """`/v2/user.json/{kloutId}`"""
    return _v2_document(request, klout_id, "v2user")


@_v2
def v2_score(request: HttpRequest, klout_id: str) -> HttpResponse:
    """`/v2/user.json/{kloutId}/score`"""
    return _v2_document(request, klout_id, "v2score")


@_v2
def v2_topics(request: HttpRequest, klout_id: str) -> HttpResponse:
    """`/v2/user.json/{kloutId}/topics`"""
    return _v2_document(request, klout_id, "v2topics")


@_v2
def v2_influence(request: HttpRequest, klout_id: str) -> HttpResponse:
    """`/v2/user.json/{kloutId}/influence`"""
    return _v2_document(request, klout_id, "v2influence")


def _identity_answer(
    request: HttpRequest, found: str | None, result: Gate, network: str = "ks"
) -> HttpResponse:
    if found is None:
        return rate_limit_headers(_v2_error(request, 404, NOT_FOUND), result)
    return rate_limit_headers(
        respond(request, shapes.dumps({"id": found, "network": network})), result
    )


@_v2
def v2_identity_by_screen_name(request: HttpRequest) -> HttpResponse:
    """`/v2/identity.json/twitter?screenName=NAME`"""
    result = gate(request)
    refused = _refused(result)
    if refused:
        return rate_limit_headers(_v2_error(request, *refused), result)
    name = request.GET.get("screenName", "")
    hit = find_subject("twitter", name) if name else None
    return _identity_answer(request, hit[0].klout_id if hit else None, result)


@_v2
def v2_identity(request: HttpRequest, network: str, value: str) -> HttpResponse:
    """`/v2/identity.json/{twitter|tw|gp|ig|fb|ks}/{id}`"""
    result = gate(request)
    refused = _refused(result)
    if refused:
        return rate_limit_headers(_v2_error(request, *refused), result)
    if network == "ks":
        subject = resolve_klout_id(value)
        return _identity_answer(request, subject.klout_id if subject else None, result)
    # Some clients send a numeric Twitter id on the `twitter` path: try the id, then the name.
    code = "tw" if network == "twitter" and value.isdigit() else network
    hit = find_subject(code, value) if network in NETWORK_CODES else None
    if hit is None and network == "twitter":
        hit = find_subject("twitter", value)
    return _identity_answer(request, hit[0].klout_id if hit else None, result)


@_v2
def v2_reverse_identity(request: HttpRequest, klout_id: str, network: str) -> HttpResponse:
    """`/v2/identity.json/klout/{kloutId}/{tw|gp|...}`: the subject's id on that network."""
    result = gate(request)
    refused = _refused(result)
    if refused:
        return rate_limit_headers(_v2_error(request, *refused), result)
    subject = resolve_klout_id(klout_id)
    account = twitter_account_of(subject) if subject and network in ("tw", "twitter") else None
    return _identity_answer(request, account.external_id if account else None, result, "tw")


# --- v1 ------------------------------------------------------------------------------------------


def _v1(
    render: Callable[[dict[str, Any], str, str], dict[str, Any]],
) -> Callable[[HttpRequest], HttpResponse]:
    @require_GET
    @gzip_page
    def view(request: HttpRequest) -> HttpResponse:
        result = gate(request)
        refused = _refused(result)
        if refused:
            return rate_limit_headers(_v1_error(request, *refused), result)
        names = [n.strip() for n in request.GET.get("users", "").split(",") if n.strip()]
        names = list(dict.fromkeys(names))
        if not names:
            return rate_limit_headers(
                _v1_error(request, 400, "Name at least one user: users=a,b,c."), result
            )
        if len(names) > V1_MAX_USERS:
            return rate_limit_headers(
                _v1_error(request, 400, f"At most {V1_MAX_USERS} users per call."), result
            )
        accounts = find_accounts("twitter", names)
        subjects = {name: subject_of_account(account) for name, account in accounts.items()}
        cards = fetch_cards(list(set(subjects.values())), epoch=None)
        users = []
        for name in names:
            subject = subjects.get(name)
            card = cards.get(subject.klout_id) if subject else None
            if card is not None:
                users.append(render(card, name, accounts[name].external_id))
        if not users:
            return rate_limit_headers(_v1_error(request, 404, NOT_FOUND), result)
        return rate_limit_headers(
            respond(request, shapes.dumps({"status": 200, "users": users})), result
        )

    view.__doc__ = render.__doc__
    return view


v1_klout = _v1(lambda card, name, _id: shapes.v1_klout(card, name))
v1_show = _v1(lambda card, name, tw_id: shapes.v1_show(card, name, tw_id))
v1_topics = _v1(lambda card, name, _id: shapes.v1_topics(card, name))
v1_influenced_by = _v1(lambda card, name, _id: shapes.v1_people(card, name, "influencers"))
v1_influencer_of = _v1(lambda card, name, _id: shapes.v1_people(card, name, "influencees"))


def legacy_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _v2_error(request, 404, "Not Found")
