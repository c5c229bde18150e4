"""A campaign's remaining stock, held by the database in a few shard rows.

One row per campaign would make every claim wait for the previous claim's commit (a commit is a
disk flush, ~5 ms here): 200 claims/s at most, whatever the hardware. With the stock spread over
up to `SHARDS` rows, a claim takes one unit from a shard no other claim holds right now
(`FOR UPDATE SKIP LOCKED`, then a conditional decrement), so commits overlap. The sum over
shards is exact at all times; a shard never goes below zero (a check constraint).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import F, Sum

from perks.models import StockShard

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
