"""The weekly e-mail digest: the week's notifications plus sections higher apps contribute.

Accounts is the lowest app, so it cannot read scores or achievements itself. Higher apps register a
section builder (`register_digest_section`) in their AppConfig.ready: given a chunk of user ids and
the week's start, it returns lines per user ("Your score went up 4 points this week: 53 → 57"). The
digest asks each builder once per chunk of people, never once per person. Each person gets at most
one digest a week: a `DigestSend` row claims it before sending, so a redelivered task sends nobody
twice.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import DigestSend, Notification, NotificationPreference, User

CHUNK = 500
ITEMS = 20

SectionBuilder = Callable[[Sequence[int], datetime.datetime], dict[int, list[str]]]


@dataclass(frozen=True)
class DigestSection:
    """A titled part of the digest ("Your week", "New achievements"), built for many at once."""

    key: str
    title: str
    build: SectionBuilder


_SECTIONS: dict[str, DigestSection] = {}


def register_digest_section(*, key: str, title: str, build: SectionBuilder) -> None:
    """Add (or replace, by key) a digest section; higher apps call this from AppConfig.ready."""
    _SECTIONS[key] = DigestSection(key=key, title=title, build=build)


def send_weekly_digests(*, now: datetime.datetime | None = None) -> int:
    """E-mail each person who wants the digest their past week, once per week; return how many
    were sent."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=7)
    week = now.date() - datetime.timedelta(days=now.weekday())
    site = settings.KLOUT_SITE_URL  # links are written outside any request
    people = (
        User.objects.filter(is_active=True, opted_out=False)
        .exclude(notification_preference__weekly_digest=False)
        .exclude(pk__in=DigestSend.objects.filter(week=week).values("user"))
        .order_by("pk")
        .values_list("pk", "email")
    )
    sent = 0
    iterator = people.iterator(chunk_size=CHUNK)
    while chunk := list(itertools.islice(iterator, CHUNK)):
        sent += _send_chunk(dict(chunk), since=since, week=week, site=site)
    return sent


def _send_chunk(
    emails: dict[int, str], *, since: datetime.datetime, week: datetime.date, site: str
) -> int:
    ids = list(emails)
    items: dict[int, list[Notification]] = {}
    recent = Notification.objects.filter(user_id__in=ids, created_at__gte=since).order_by(
        "user_id", "-created_at"
    )
    for notification in recent:
        mine = items.setdefault(notification.user_id, [])
        if len(mine) < ITEMS:
            mine.append(notification)
    sections = {key: section.build(ids, since) for key, section in _SECTIONS.items()}
    sent = 0
    for user_id, email in emails.items():
        parts = [
            {"title": section.title, "lines": sections[key][user_id]}
            for key, section in _SECTIONS.items()
            if sections[key].get(user_id)
        ]
        if not items.get(user_id) and not parts:
            continue
        try:
            with transaction.atomic():
                claim = DigestSend.objects.create(
                    user_id=user_id, week=week, notifications=len(items.get(user_id, []))
                )
        except IntegrityError:
            continue  # another delivery of this task got there first
        token = _unsubscribe_token(user_id)
        unsubscribe_url = site + reverse("unsubscribe", args=[token])
        context = {
            "items": items.get(user_id, []),
            "sections": parts,
            "unsubscribe_url": unsubscribe_url,
            "site": site,
        }
        message = EmailMultiAlternatives(
            subject="Your week on Klout",
            body=render_to_string("accounts/email/weekly_digest.txt", context),
            to=[email],
            headers={
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        try:
            message.send()
        except Exception:
            claim.delete()  # not sent: a retry may send it
            raise
        sent += 1
    return sent


def _unsubscribe_token(user_id: int) -> str:
    preference, _ = NotificationPreference.objects.get_or_create(user_id=user_id)
    return preference.unsubscribe_token
