"""The weekly e-mail digest: unread notifications of the past week, with one-click unsubscribe."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import DigestSend, Notification, NotificationPreference


def send_weekly_digests(*, now: datetime.datetime | None = None) -> int:
    """E-mail each person who wants the digest their past week's notifications, once per week
    (a `DigestSend` row claims each before sending, so a redelivered task sends nobody twice);
    return how many were sent."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=7)
    week = now.date() - datetime.timedelta(days=now.weekday())
    site = settings.KLOUT_SITE_URL  # links are written outside any request
    sent = 0
    preferences = (
        NotificationPreference.objects.filter(
            weekly_digest=True, user__is_active=True, user__opted_out=False
        )
        .exclude(user__in=DigestSend.objects.filter(week=week).values("user"))
        .select_related("user")
    )
    for preference in preferences.iterator():
        items = list(
            Notification.objects.filter(user_id=preference.user_id, created_at__gte=since).order_by(
                "-created_at"
            )[:20]
        )
        if not items:
            continue
        try:
            with transaction.atomic():
                claim = DigestSend.objects.create(
                    user_id=preference.user_id, week=week, notifications=len(items)
                )
        except IntegrityError:
            continue  # another delivery of this task got there first
        unsubscribe_url = site + reverse("unsubscribe", args=[preference.unsubscribe_token])
        context = {"items": items, "unsubscribe_url": unsubscribe_url, "site": site}
        message = EmailMultiAlternatives(
            subject="Your week on Klout",
            body=render_to_string("accounts/email/weekly_digest.txt", context),
            to=[preference.user.email],
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
