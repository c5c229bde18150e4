"""A campaign's remaining stock, held by the database in a few shard rows.

One row per campaign would make every claim wait for the previous claim's commit (a commit is a
disk flush, ~5 ms here): 200 claims/s at most, whatever the hardware. With the stock spread over
up to `SHARDS` rows, a claim takes one unit from a shard no other claim holds right now
(`FOR UPDATE SKIP LOCKED`, then a conditional decrement), so commits overlap. The sum over
shards is exact at all times; a shard never goes below zero (a check constraint).

`record_claim` is the one write of a claim that takes stock: on PostgreSQL one statement locks a
shard and a code (both `SKIP LOCKED`), decrements and marks them and inserts the claim, all or
nothing, so a claim costs one round trip and holds its locks only for that statement. The plain
path (several ORM statements in a transaction, the only one SQLite can run) stores the same rows;
a test runs both and compares them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from perks.models import CampaignTier, Claim, PerkCode, StockShard

SHARDS = 16

_TAKE_SKIPPING = """
    UPDATE perks_stockshard SET remaining = remaining - 1
    WHERE id = (SELECT id FROM perks_stockshard WHERE campaign_id = %s AND remaining > 0
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING id
"""
_TAKE_WAITING = """
    UPDATE perks_stockshard SET remaining = remaining - 1
    WHERE id = (SELECT id FROM perks_stockshard WHERE campaign_id = %s AND remaining > 0
                ORDER BY id LIMIT 1 FOR UPDATE)
      AND remaining > 0
    RETURNING id
"""


def split(total: int, parts: int = SHARDS) -> list[int]:
    """`total` units over at most `parts` shards, as even as possible (no empty shards)."""
    parts = max(1, min(parts, total)) if total > 0 else 0
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def remaining(campaign_id: int) -> int:
    """Units left to give."""
    total = StockShard.objects.filter(campaign_id=campaign_id).aggregate(left=Sum("remaining"))
    return int(total["left"] or 0)


def set_remaining(*, campaign_id: int, left: int) -> None:
    """Replace what is left (the caller holds the campaign's row lock)."""
    with transaction.atomic():
        list(StockShard.objects.select_for_update().filter(campaign_id=campaign_id))
        StockShard.objects.filter(campaign_id=campaign_id).delete()
        StockShard.objects.bulk_create(
            StockShard(campaign_id=campaign_id, remaining=part) for part in split(left)
        )


def take_one(campaign_id: int) -> bool:
    """Take one unit; False when none is left. Call inside the claim's transaction."""
    if connection.vendor != "postgresql":
        return _take_one_portable(campaign_id)
    with connection.cursor() as cursor:
        while True:
            cursor.execute(_TAKE_SKIPPING, [campaign_id])
            if cursor.fetchone():
                return True
            # Every shard with stock is held by another claim (or none has stock): wait for one.
            cursor.execute(_TAKE_WAITING, [campaign_id])
            if cursor.fetchone():
                return True
            if not StockShard.objects.filter(campaign_id=campaign_id, remaining__gt=0).exists():
                return False


def _take_one_portable(campaign_id: int) -> bool:
    """SQLite (one writer at a time): the first shard with stock, decremented conditionally."""
    while True:
        shard = (
            StockShard.objects.filter(campaign_id=campaign_id, remaining__gt=0)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if shard is None:
            return False
        if StockShard.objects.filter(pk=shard, remaining__gt=0).update(
            remaining=F("remaining") - 1
        ):
            return True


def take_many(*, campaign_id: int, count: int) -> bool:
    """Take `count` units at once (selection winners), all or nothing."""
    with transaction.atomic():
        shards = list(
            StockShard.objects.select_for_update()
            .filter(campaign_id=campaign_id, remaining__gt=0)
            .order_by("pk")
        )
        if sum(s.remaining for s in shards) < count:
            return False
        for shard in shards:
            taken = min(shard.remaining, count)
            if taken:
                StockShard.objects.filter(pk=shard.pk).update(remaining=F("remaining") - taken)
                count -= taken
        return True


class _Short(Exception):
    """Something the claim needs ran out: undo what was taken."""


@dataclass(frozen=True, slots=True)
class Needs:
    """What a claim takes besides its row: a unit of stock, a code, a unit of its tier's stock."""

    stock: bool = True
    code: bool = False
    tier_stock: bool = False


def record_claim(claim: Claim, *, needs: Needs, fast: bool | None = None) -> bool:
    """Store `claim` (unsaved) with everything it takes, all or nothing; False when something ran
    out. A (campaign, person) or idempotency-key clash raises IntegrityError and takes nothing.

    `fast` picks the single-statement PostgreSQL path (the default there); False runs the plain
    path, which any database runs and which stores the same rows.
    """
    if fast is None:
        fast = connection.vendor == "postgresql"
    if not fast:
        return _record_plain(claim, needs)
    if needs.tier_stock or connection.in_atomic_block:
        # The tier's row (one per tier: every claim of the tier waits for it) is locked first,
        # before any shard, so two claims never wait for each other in opposite orders.
        try:
            with transaction.atomic():
                if needs.tier_stock and not _take_tier_unit(claim.tier_id):
                    raise _Short
                if not _record_fast(claim, needs):
                    raise _Short
        except _Short:
            return False
        return True
    return _record_fast(claim, needs)


def _take_tier_unit(tier_id: int | None) -> bool:
    if tier_id is None:
        return False
    return bool(
        CampaignTier.objects.filter(pk=tier_id, stock_left__gt=0).update(
            stock_left=F("stock_left") - 1
        )
    )


def _record_plain(claim: Claim, needs: Needs) -> bool:
    try:
        with transaction.atomic():
            if needs.tier_stock and not _take_tier_unit(claim.tier_id):
                raise _Short
            if needs.code:
                code = _take_code_plain(claim.campaign_id, claim.tier_id)
                if code is None:
                    raise _Short
                claim.code = code
            if needs.stock and not take_one(claim.campaign_id):
                raise _Short
            claim.save(force_insert=True)
    except _Short:
        claim.code = None
        return False
    return True


def _take_code_plain(campaign_id: int, tier_id: int | None) -> PerkCode | None:
    """A free code of the campaign (for the claim's tier, or for any tier), marked taken."""
    from django.db.models import Q

    allowed = Q(tier__isnull=True) | Q(tier_id=tier_id) if tier_id else Q(tier__isnull=True)
    code = (
        PerkCode.objects.select_for_update(skip_locked=True)
        .filter(allowed, campaign_id=campaign_id, claimed_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if code is not None:
        code.claimed_at = timezone.now()
        code.save(update_fields=["claimed_at"])
    return code


# One statement: lock a shard with stock and (for code campaigns) a free code, skipping rows other
# claims hold; only when both were found decrement, mark and insert. A failed insert (the person
# or the key already claimed) fails the statement, which undoes it all.
_RECORD = """
    WITH s AS MATERIALIZED (
        SELECT id FROM perks_stockshard
        WHERE campaign_id = %s AND remaining > 0
        ORDER BY id LIMIT 1 FOR UPDATE {shard_wait}
    ), c AS MATERIALIZED (
        {code_select}
    ), pair AS MATERIALIZED (
        SELECT s.id AS shard_id, c.id AS code_id, c.code AS code, c.tier_id FROM s, c
    ), took_stock AS (
        UPDATE perks_stockshard SET remaining = remaining - 1
        WHERE id IN (SELECT shard_id FROM pair)
    ), took_code AS (
        UPDATE perks_perkcode SET claimed_at = %s WHERE id IN (SELECT code_id FROM pair)
    ), made AS (
        INSERT INTO perks_claim ({columns}) SELECT {values} FROM pair RETURNING id
    )
    SELECT (SELECT id FROM made), (SELECT code_id FROM pair), (SELECT code FROM pair),
           (SELECT tier_id FROM pair),
           EXISTS (SELECT 1 FROM s),
           EXISTS (SELECT 1 FROM perks_stockshard WHERE campaign_id = %s AND remaining > 0)
"""
_CODE = """
        SELECT id, code, tier_id FROM perks_perkcode
        WHERE campaign_id = %s AND claimed_at IS NULL AND (tier_id IS NULL OR tier_id = %s)
        ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
"""
_NO_CODE = "SELECT NULL::bigint AS id, NULL::varchar AS code, NULL::bigint AS tier_id"


def _record_fast(claim: Claim, needs: Needs) -> bool:
    if not needs.stock:
        claim.save(force_insert=True)
        return True
    now = timezone.now()
    fields = [f for f in Claim._meta.local_concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    values: list[str] = []
    params: list[Any] = []
    for f in fields:
        if f.attname == "code_id":
            values.append("pair.code_id")
        else:
            values.append("%s")
            params.append(f.get_db_prep_save(f.pre_save(claim, add=True), connection))
    code_select = _CODE if needs.code else _NO_CODE
    code_params = [claim.campaign_id, claim.tier_id] if needs.code else []
    shard_wait = "SKIP LOCKED"
    with connection.cursor() as cursor:
        while True:
            sql = _RECORD.format(
                shard_wait=shard_wait,
                code_select=code_select,
                columns=columns,
                values=", ".join(values),
            )
            cursor.execute(sql, [claim.campaign_id, *code_params, now, *params, claim.campaign_id])
            made, code_id, code, code_tier, got_shard, stock_left = cursor.fetchone()
            if made is not None:
                break
            if got_shard or not stock_left:
                return False  # no code left, or no stock left
            # Every shard with stock is held by another claim right now: wait for one.
            shard_wait = "" if shard_wait else "SKIP LOCKED"
    claim.pk = made
    claim._state.adding = False
    claim._state.db = connection.alias
    if code_id is not None:
        taken = PerkCode(
            id=code_id, code=code, campaign_id=claim.campaign_id, tier_id=code_tier, claimed_at=now
        )
        taken._state.adding = False
        claim.code = taken
    return True
