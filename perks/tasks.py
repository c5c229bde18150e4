"""Celery tasks of perks: thin, ids in, one service call each."""

from __future__ import annotations

from celery import shared_task

from perks import audience, services


@shared_task(name="perks.announce_campaign", acks_late=True)
def announce_campaign(campaign_id: int) -> int:
    """Tell the people who qualify that a campaign opened."""
    return services.announce_campaign(campaign_id=campaign_id)


@shared_task(name="perks.advance_campaigns")
def advance_campaigns() -> dict[str, int]:
    """Start scheduled campaigns and end finished ones."""
    return services.advance_campaigns()


@shared_task(name="perks.purge_shipping_addresses")
def purge_shipping_addresses() -> int:
    """Delete shipping addresses 30 days after their campaign ended."""
    return services.purge_shipping_addresses()


@shared_task(name="perks.rebuild_audience", acks_late=True)
def rebuild_audience() -> int:
    """Refill the targeting read model after a scoring day is published, then tell the people
    who now qualify for an open perk."""
    rows = audience.rebuild_audience()
    services.tell_new_qualifiers()
    return rows
