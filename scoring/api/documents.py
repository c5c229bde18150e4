"""Pre-serialised API answers per subject, written when a day is published.

Each visible subject has one Redis hash, `api:doc:<privacy epoch>:<kloutId>`, whose fields are the
JSON bytes of its answers (legacy v2 user/score/topics/influence, the modern subject, and its card
for the v1 shapes). A single lookup is then one Redis round trip and no database query.

Privacy: the key includes the privacy epoch, which every opt-out bumps (when the opt-out runs
and again when it commits), so no cached answer can outlive an opt-out: after a bump every lookup
misses, answers from the database (which checks visibility) and refills under the new epoch. A
refill is written under the epoch read *before* the database was, so a refill racing an opt-out
lands under the old epoch and is never read again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from klout.redis_client import raw_key, raw_redis
from scoring.api import shapes
from scoring.api.cards import LATEST_FIELDS, _visible_latest, build_cards, cards_for
from scoring.api.identity import Subject
from scoring.queries import PRIVACY_EPOCH_KEY, privacy_epoch

logger = logging.getLogger(__name__)

DOCUMENT_SECONDS = 60 * 60 * 48
PRIME_CHUNK = 2_000

RENDERERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "card": lambda card: card,
    "v2user": shapes.v2_user,
    "v2score": shapes.v2_score,
    "v2topics": shapes.v2_topics,
    "v2influence": shapes.v2_influence,
    "modern": shapes.modern_subject,
}


def document_prefix() -> str:
    return raw_key("api:doc:")


def epoch_key() -> str:
    return raw_key(PRIVACY_EPOCH_KEY)


def render_all(card: dict[str, Any]) -> dict[str, bytes]:
    """Every field of a subject's hash. The modern answer is stored after its publication time
    and a newline (its Last-Modified, with no need to parse the JSON)."""
    fields = {field: shapes.dumps(render(card)) for field, render in RENDERERS.items()}
    fields["modern"] = card["published_at"].encode() + b"\n" + fields["modern"]
    return fields


def current_epoch() -> int | None:
    """The privacy epoch, or None when Redis is away (then nothing is cached)."""
    try:
        return privacy_epoch()
    except Exception:
        return None


def store(cards: dict[str, dict[str, Any]], *, epoch: int) -> None:
    """Cache subjects' answers under `epoch` (best effort: a cache outage only costs speed)."""
    try:
        client = raw_redis()
        if client is None or not cards:
            return
        prefix = f"{document_prefix()}{epoch}:"
        pipe = client.pipeline(transaction=False)
        for kid, card in cards.items():
            pipe.hset(prefix + kid, mapping=render_all(card))
            pipe.expire(prefix + kid, DOCUMENT_SECONDS)
        pipe.execute()
    except Exception as exc:
        logger.warning("API documents not cached (%s); lookups use the database", exc)


def fetch_cards(subjects: list[Subject], *, epoch: int | None) -> dict[str, dict[str, Any]]:
    """Cards from the database (checking visibility), cached under the epoch read before."""
    cards = cards_for(subjects)
    if epoch is not None:
        store(cards, epoch=epoch)
    return cards


def prime_documents(progress: Callable[[int], None] | None = None) -> int:
    """Cache the answers of every visible subject (after a day is published); return how many."""
    epoch = current_epoch()
    if epoch is None or raw_redis() is None:
        return 0
    rows = (
        _visible_latest()
        .filter(account__user__isnull=True)  # claimed accounts answer as their person
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    done = 0
    ids = list(rows)
    for start in range(0, len(ids), PRIME_CHUNK):
        chunk = ids[start : start + PRIME_CHUNK]
        batch = list(_visible_latest().filter(pk__in=chunk).values(*LATEST_FIELDS))
        store(build_cards(batch), epoch=epoch)
        done += len(batch)
        if progress is not None:
            progress(done)
    return done
