"""The weekly e-mail digest: unread notifications of the past week, with one-click unsubscribe."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification, NotificationPreference

SITE_URL_SETTING = "KLOUT_SITE_URL"


def send_weekly_digests(*, now: datetime.datetime | None = None) -> int:
    """E-mail each person who wants the digest their past week's notifications; return the count."""
    since = (now or timezone.now()) - datetime.timedelta(days=7)
    site = getattr(settings, SITE_URL_SETTING, "http://127.0.0.1:8000").rstrip("/")
    sent = 0
    preferences = NotificationPreference.objects.filter(
        weekly_digest=True, user__is_active=True, user__opted_out=False
    ).select_related("user")
    for preference in preferences.iterator():
        items = list(
            Notification.objects.filter(user_id=preference.user_id, created_at__gte=since).order_by(
                "-created_at"
            )[:20]
        )
        if not items:
            continue
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
        message.send()
        sent += 1
    return sent
