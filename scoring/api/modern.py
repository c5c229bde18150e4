"""The modern API, `/api/v1/` (DRF, documented by drf-spectacular at `/api/schema/`).

Keys travel as `Authorization: Bearer <key>` or `key=`. Every answer carries `RateLimit` headers;
over quota is 429 with `Retry-After`; errors are RFC 9457 problem details. Subjects are named by
kloutId or by network and handle. Single lookups are served from the pre-serialised answer cached at
publish (no database query), with an `ETag` and `Last-Modified` (and 304 when they match).
CORS is read-only: any origin may GET (and preflight) with a Bearer key; nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.request import Request

from accounts.api_keys import Gate
from networks.models import Network, NetworkAccount
from scoring.api import shapes
from scoring.api.access import cacheable_id, gate, rate_limit_headers, retry_after
from scoring.api.documents import current_epoch, fetch_cards
from scoring.api.identity import resolve_klout_id, resolve_klout_ids, subject_of_account
from scoring.api.problems import PROBLEM, problem
from scoring.models import DailyScore

BULK_MAX = 100
HISTORY_MAX_DAYS = 365
HISTORY_DEFAULT_DAYS = 90
PAGE_SIZE_MAX = 50
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": (
        "ETag, Last-Modified, RateLimit, RateLimit-Policy, Retry-After"
    ),
}


# --- documented shapes ------------------------------------------------------------------------


class ChangesSerializer(serializers.Serializer):
    day = serializers.FloatField(allow_null=True, help_text="Change since the day before.")
    fiveDays = serializers.FloatField(allow_null=True)
    week = serializers.FloatField(allow_null=True)
    month = serializers.FloatField(allow_null=True, help_text="The 30-day change (v1's slope).")


class SubscoresSerializer(serializers.Serializer):
    trueReach = serializers.IntegerField(min_value=0, help_text="People reached.")
    amplification = serializers.FloatField(help_text="1-100: how much each post is acted on.")
    network = serializers.FloatField(help_text="1-100: how influential the reactors are.")


class StyleSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, max_value=16)
    name = serializers.ChoiceField(choices=shapes.STYLE_ORDER)
    description = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)


class SubjectSerializer(serializers.Serializer):
    kloutId = serializers.CharField(help_text="Decimal string; may exceed 2^53.")
    kind = serializers.ChoiceField(choices=["person", "account"])
    nick = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    network = serializers.CharField(
        allow_blank=True, help_text="The account's network ('' for a person)."
    )
    day = serializers.DateField(help_text="The published day these figures belong to.")
    version = serializers.CharField(help_text="The algorithm version that scored the day.")
    score = serializers.FloatField(min_value=1, max_value=100)
    bucket = serializers.ChoiceField(choices=shapes.BUCKETS)
    changes = ChangesSerializer()
    subscores = SubscoresSerializer()
    style = StyleSerializer()  # type: ignore[assignment]
    scoreDescription = serializers.CharField()
    influencersCount = serializers.IntegerField(min_value=0)
    influenceesCount = serializers.IntegerField(min_value=0)
    publishedAt = serializers.DateTimeField(help_text="When the day was published.")


class BulkSerializer(serializers.Serializer):
    results = SubjectSerializer(many=True)
    missing = serializers.ListField(child=serializers.CharField(), help_text="Ids not found.")


class HistoryDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    score = serializers.FloatField(min_value=1, max_value=100)
    version = serializers.CharField(help_text="The algorithm version of that day's score.")


class HistorySerializer(serializers.Serializer):
    kloutId = serializers.CharField()
    days = HistoryDaySerializer(many=True)


class TopicSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Klout topic ontology id (a string).")
    displayName = serializers.CharField()
    name = serializers.CharField()
    slug = serializers.CharField()
    topicType = serializers.ChoiceField(choices=shapes.TOPIC_TYPES)
    score = serializers.FloatField(allow_null=True, help_text="1-100 within the topic.")
    evidence = serializers.IntegerField(min_value=0, help_text="Posts behind the topic.")
    reactions = serializers.IntegerField(min_value=0, help_text="Reactions those posts received.")
    reactors = serializers.IntegerField(min_value=0, help_text="Distinct people who reacted.")


class TopicsSerializer(serializers.Serializer):
    kloutId = serializers.CharField()
    topics = TopicSerializer(many=True)


class PersonSerializer(serializers.Serializer):
    kloutId = serializers.CharField()
    nick = serializers.CharField()
    score = serializers.FloatField(min_value=1, max_value=100)
    bucket = serializers.ChoiceField(choices=shapes.BUCKETS)


class InfluenceSerializer(serializers.Serializer):
    kloutId = serializers.CharField()
    influencersCount = serializers.IntegerField(min_value=0)
    influenceesCount = serializers.IntegerField(min_value=0)
    page = serializers.IntegerField(min_value=1)
    pageSize = serializers.IntegerField(min_value=1)
    hasMore = serializers.BooleanField(help_text="Whether a next page holds more people.")
    influencers = PersonSerializer(many=True, help_text="People this subject acts on (top first).")
    influencees = PersonSerializer(many=True, help_text="People who act on this subject.")


class EnumItemSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)


class EnumsSerializer(serializers.Serializer):
    styles = EnumItemSerializer(many=True, help_text="The 16 influencer styles; id is kclass_id.")
    buckets = EnumItemSerializer(many=True)
    topicTypes = EnumItemSerializer(many=True)


class ProblemSerializer(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)


def _errors(*codes: int) -> dict[Any, Any]:
    return {(code, PROBLEM): OpenApiResponse(ProblemSerializer) for code in codes}


def _responses(ok: Any, *codes: int) -> dict[Any, Any]:
    return {200: ok, 304: OpenApiResponse(description="Not modified"), **_errors(*codes)}


KLOUT_ID = OpenApiParameter(
    "klout_id", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=r"^[1-9][0-9]{0,18}$"
)
COMMON_ERRORS = (400, 401, 404, 429)


# --- plumbing -----------------------------------------------------------------------------------


def _refused(result: Gate, request: HttpRequest) -> HttpResponse | None:
    if result.key is None:
        return problem(
            401,
            "Send a valid API key as 'Authorization: Bearer <key>' or key=<key>.",
            instance=request.path,
            headers={"WWW-Authenticate": 'Bearer realm="klout"'},
        )
    if result.over_quota:
        which = "per-second" if result.over_second else "daily"
        response = problem(
            429,
            f"This key is over its {which} quota.",
            instance=request.path,
            headers={"Retry-After": str(retry_after(result))},
        )
        return rate_limit_headers(response, result)
    return None


def json_answer(
    request: HttpRequest, body: bytes, result: Gate, *, published: str | None = None
) -> HttpResponse:
    """200 with validators, or 304 when the client's copy is current."""
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    last_modified = _http_date(published)
    if _not_modified(request, etag, published):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    if last_modified:
        response["Last-Modified"] = last_modified
    response["Cache-Control"] = "private, max-age=60"
    for name, value in CORS_HEADERS.items():
        response[name] = value
    return rate_limit_headers(response, result)


@functools.lru_cache(maxsize=64)  # one publication time per published day
def _http_date(iso: str | None) -> str | None:
    if not iso:
        return None
    return format_datetime(dt.datetime.fromisoformat(iso).astimezone(dt.UTC), usegmt=True)


def _not_modified(request: HttpRequest, etag: str, published: str | None) -> bool:
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        return etag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")] or (
            if_none_match.strip() == "*"
        )
    since = request.META.get("HTTP_IF_MODIFIED_SINCE")
    if since and published:
        try:
            client = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if client.tzinfo is None:
            return False
        return dt.datetime.fromisoformat(published).replace(microsecond=0) <= client
    return False


def _subject_card(klout_id: str, result: Gate) -> dict[str, Any] | None:
    subject = resolve_klout_id(klout_id)
    if subject is None:
        return None
    epoch = result.epoch if result.epoch is not None else current_epoch()
    return fetch_cards([subject], epoch=epoch).get(subject.klout_id)


def _not_found(request: HttpRequest, result: Gate) -> HttpResponse:
    return rate_limit_headers(
        problem(404, "No visible subject with that id.", instance=request.path), result
    )


def _bad(request: HttpRequest, result: Gate, detail: str) -> HttpResponse:
    return rate_limit_headers(problem(400, detail, instance=request.path), result)


def _int_param(request: HttpRequest, name: str, default: int, low: int, high: int) -> int | None:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        return None
    value = int(raw)
    return value if low <= value <= high else None


def cors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Read-only CORS: a browser's preflight may ask for GET with an Authorization header."""

    @functools.wraps(view)  # keeps DRF's `cls`, which the schema generator reads
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Allow-Methods"] = "GET"
            response["Access-Control-Allow-Headers"] = "Authorization, If-None-Match"
            response["Access-Control-Max-Age"] = "86400"
            return response
        return view(request, *args, **kwargs)

    return wrapped


# --- views --------------------------------------------------------------------------------------


@extend_schema(
    operation_id="getSubject",
    summary="A subject's latest published score",
    responses=_responses(SubjectSerializer, *COMMON_ERRORS),
    parameters=[KLOUT_ID],
    tags=["subjects"],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def subject(request: Request, klout_id: str) -> HttpResponse:
    """One subject by kloutId: served from the answer cached at publish when there is one."""
    result = gate(request, klout_id=klout_id, field="modern")
    refused = _refused(result, request)
    if refused:
        return refused
    if result.document is not None:
        published, _, body = result.document.partition(b"\n")
        return json_answer(request, body, result, published=published.decode() or None)
    card = _subject_card(klout_id, result)
    if card is None:
        return _not_found(request, result)
    body = shapes.dumps(shapes.modern_subject(card))
    return json_answer(request, body, result, published=card.get("published_at"))


@extend_schema(
    operation_id="lookupSubject",
    summary="Find a subject by network and handle",
    responses=_responses(SubjectSerializer, *COMMON_ERRORS),
    parameters=[
        OpenApiParameter(
            "network", OpenApiTypes.STR, enum=[n.value for n in Network], required=True
        ),
        OpenApiParameter(
            "handle",
            {"type": "string", "minLength": 1, "maxLength": 255},
            required=True,
            description="Handle, else the network's id.",
        ),
    ],
    tags=["subjects"],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def lookup(request: Request) -> HttpResponse:
    """A subject by network and handle (an account's handle, or its id when it has none)."""
    result = gate(request)
    refused = _refused(result, request)
    if refused:
        return refused
    network, handle = request.GET.get("network", ""), request.GET.get("handle", "")
    if network not in Network.values or not handle or len(handle) > 255:
        return _bad(request, result, "Give network (one of the documented values) and handle.")
    if "\x00" in handle:  # no stored handle holds a NUL (PostgreSQL text refuses it)
        return _not_found(request, result)
    account = (
        NetworkAccount.objects.visible()
        .filter(Q(handle=handle) | Q(handle="", external_id=handle), network=network)
        .order_by("pk")
        .first()
    )
    if account is None:
        return _not_found(request, result)
    found = subject_of_account(account)
    card = fetch_cards([found], epoch=None).get(found.klout_id)
    if card is None:
        return _not_found(request, result)
    return json_answer(
        request,
        shapes.dumps(shapes.modern_subject(card)),
        result,
        published=card.get("published_at"),
    )


@extend_schema(
    operation_id="getSubjects",
    summary="Up to 100 subjects in one call",
    responses=_responses(BulkSerializer, 400, 401, 429),
    parameters=[
        OpenApiParameter(
            "ids",
            {"type": "string", "pattern": r"^[1-9][0-9]{0,18}(,[1-9][0-9]{0,18}){0,99}$"},
            required=True,
            description="Comma-separated kloutIds, at most 100.",
        ),
    ],
    tags=["subjects"],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def bulk(request: Request) -> HttpResponse:
    """Many subjects by kloutId; unknown or hidden ids are listed under `missing`."""
    ids = bulk_ids(request.GET.get("ids", ""))
    valid = bool(ids) and len(ids) <= BULK_MAX and all(cacheable_id(i) for i in ids)
    # One round trip: the key, its quotas and the cached answers of every id.
    result = gate(request, klout_ids=ids if valid else None, field="modern")
    refused = _refused(result, request)
    if refused:
        return refused
    if not ids or len(ids) > BULK_MAX:
        return _bad(request, result, f"Give 1 to {BULK_MAX} comma-separated kloutIds as ids=.")
    if not valid:
        return _bad(request, result, "kloutIds are decimal strings.")
    # Cached answers are spliced in as they are (no JSON parsing on the way).
    docs = {
        kid: raw.partition(b"\n")[2]
        for kid, raw in zip(ids, result.documents, strict=False)
        if raw is not None
    }
    missing = [i for i in ids if i not in docs]
    if missing:
        # Not cached (or a claimed account's own id, which names its person): the database.
        epoch = result.epoch if result.epoch is not None else current_epoch()
        resolved = resolve_klout_ids(missing)
        fresh = fetch_cards(list(set(resolved.values())), epoch=epoch)
        for kid, found in resolved.items():
            if found.klout_id in fresh:
                docs[kid] = shapes.dumps(shapes.modern_subject(fresh[found.klout_id]))
    return json_answer(request, bulk_body(ids, docs), result)


def bulk_ids(raw: str) -> list[str]:
    """The distinct ids of `ids=`, in the order asked."""
    return list(dict.fromkeys(i.strip() for i in raw.split(",") if i.strip()))


def bulk_body(ids: list[str], docs: dict[str, bytes]) -> bytes:
    """The bulk answer: the found subjects' answers spliced in order, then the missing ids."""
    return (
        b'{"results":['
        + b",".join(docs[i] for i in ids if i in docs)
        + b'],"missing":'
        + shapes.dumps([i for i in ids if i not in docs])
        + b"}"
    )


@extend_schema(
    operation_id="getHistory",
    summary="A subject's daily scores, each with its algorithm version",
    responses=_responses(HistorySerializer, *COMMON_ERRORS),
    parameters=[
        KLOUT_ID,
        OpenApiParameter(
            "days",
            {"type": "integer", "minimum": 1, "maximum": HISTORY_MAX_DAYS},
            description=f"1-{HISTORY_MAX_DAYS}, default {HISTORY_DEFAULT_DAYS}.",
        ),
    ],
    tags=["subjects"],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def history(request: Request, klout_id: str) -> HttpResponse:
    """Published daily scores, oldest first, up to the latest published day."""
    result = gate(request)
    refused = _refused(result, request)
    if refused:
        return refused
    days = _int_param(request, "days", HISTORY_DEFAULT_DAYS, 1, HISTORY_MAX_DAYS)
    if days is None:
        return _bad(request, result, f"days is a whole number from 1 to {HISTORY_MAX_DAYS}.")
    found = resolve_klout_id(klout_id)
    card = fetch_cards([found], epoch=None).get(found.klout_id) if found else None
    if found is None or card is None:
        return _not_found(request, result)
    end = dt.date.fromisoformat(card["day"])
    subject_rows = DailyScore.objects.published().filter(
        Q(user_id=found.user_id) if found.user_id is not None else Q(account_id=found.account_id)
    )
    rows = (
        subject_rows.filter(day__gt=end - dt.timedelta(days=days), day__lte=end)
        .order_by("day", "-version__is_current", "version_id")
        .values_list("day", "score", "version__name")
    )
    by_day: dict[dt.date, dict[str, Any]] = {}
    for day, score, version in rows:
        by_day.setdefault(day, {"day": day.isoformat(), "score": score, "version": version})
    body = shapes.dumps({"kloutId": found.klout_id, "days": list(by_day.values())})
    return json_answer(request, body, result, published=card.get("published_at"))


@extend_schema(
    operation_id="getTopics",
    summary="A subject's topics with topic scores and evidence",
    responses=_responses(TopicsSerializer, *COMMON_ERRORS),
    parameters=[KLOUT_ID],
    tags=["subjects"],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def topics(request: Request, klout_id: str) -> HttpResponse:
    """The subject's shown topics, best first."""
    result = gate(request, klout_id=klout_id, field="card")
    refused = _refused(result, request)
    if refused:
        return refused
    card = json.loads(result.document) if result.document else _subject_card(klout_id, result)
    if card is None:
        return _not_found(request, result)
    shown = [
        {
            **legacy,
            "score": topic.get("score"),
            "evidence": int(topic.get("evidence", 0)),
            "reactions": int(topic.get("reactions", 0)),
            "reactors": int(topic.get("reactors", 0)),
        }
        for legacy, topic in zip(shapes.v2_topics(card), card.get("topics", []), strict=True)
    ]
    for item in shown:
        item.pop("imageUrl", None)
    body = shapes.dumps({"kloutId": card["kloutId"], "topics": shown})
    return json_answer(request, body, result, published=card.get("published_at"))


@extend_schema(
    operation_id="getInfluence",
    summary="Who a subject influences and is influenced by, with totals",
    responses=_responses(InfluenceSerializer, *COMMON_ERRORS),
    parameters=[
        KLOUT_ID,
        OpenApiParameter(
            "page",
            {"type": "integer", "minimum": 1, "maximum": 100_000},
            description="1 and up, default 1.",
        ),
        OpenApiParameter(
            "pageSize",
            {"type": "integer", "minimum": 1, "maximum": PAGE_SIZE_MAX},
            description=f"1-{PAGE_SIZE_MAX}, default 5.",
        ),
    ],
    tags=["subjects"],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def influence(request: Request, klout_id: str) -> HttpResponse:
    """The people around a subject: totals of everyone, the strongest listed (paged)."""
    result = gate(request, klout_id=klout_id, field="card")
    refused = _refused(result, request)
    if refused:
        return refused
    page = _int_param(request, "page", 1, 1, 100_000)
    size = _int_param(request, "pageSize", 5, 1, PAGE_SIZE_MAX)
    if page is None or size is None:
        return _bad(request, result, f"page is 1 or more; pageSize is 1 to {PAGE_SIZE_MAX}.")
    card = json.loads(result.document) if result.document else _subject_card(klout_id, result)
    if card is None:
        return _not_found(request, result)
    start = (page - 1) * size

    def people(briefs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "kloutId": b["kloutId"],
                "nick": b["nick"],
                "score": float(b["score"]),
                "bucket": shapes.legacy_bucket(b["score"]),
            }
            for b in briefs[start : start + size]
        ]

    body = shapes.dumps(
        {
            "kloutId": card["kloutId"],
            "influencersCount": int(card["influencers_count"]),
            "influenceesCount": int(card["influencees_count"]),
            "page": page,
            "pageSize": size,
            "hasMore": start + size < max(len(card["influencers"]), len(card["influencees"])),
            "influencers": people(card["influencers"]),
            "influencees": people(card["influencees"]),
        }
    )
    return json_answer(request, body, result, published=card.get("published_at"))


@extend_schema(
    operation_id="getEnums",
    summary="Documented enums: styles, buckets, topic types",
    responses=_responses(EnumsSerializer, 401, 429),
    tags=["reference"],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def enums(request: Request) -> HttpResponse:
    """The values `style`, `bucket` and `topicType` take, with what they mean."""
    result = gate(request)
    refused = _refused(result, request)
    if refused:
        return refused
    body = shapes.dumps(
        {
            "styles": [
                {"id": str(i), "name": name, "description": shapes.STYLE_DESCRIPTIONS[name]}
                for i, name in enumerate(shapes.STYLE_ORDER, start=1)
            ],
            "buckets": [
                {
                    "id": b,
                    "name": b,
                    "description": shapes.score_description(float(b.split("-")[0])),
                }
                for b in shapes.BUCKETS
            ],
            "topicTypes": [
                {
                    "id": "sub",
                    "name": "sub",
                    "description": "An ordinary topic (Software Development).",
                },
                {
                    "id": "entity",
                    "name": "entity",
                    "description": "A named entity (a person, a brand).",
                },
            ],
        }
    )
    return json_answer(request, body, result)
