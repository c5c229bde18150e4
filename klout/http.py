"""A typed request for views: declares the user and the htmx details middleware adds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from accounts.models import User


class HtmxHttpRequest(HttpRequest):
    """Any request: the user may be anonymous."""

    htmx: HtmxDetails


class AuthedHttpRequest(HtmxHttpRequest):
    """A request behind @login_required: the user is a real User."""

    user: User
