"""Template context for every page: the unread notification count in the nav."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.models import Notification


def unread_notifications(request: HttpRequest) -> dict[str, object]:
    """`unread_notification_count`: one COUNT query, only when a template uses it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notification_count": 0}
    return {
        "unread_notification_count": SimpleLazyObject(
            lambda: Notification.objects.filter(user_id=user.pk).unread().count()
        )
    }
