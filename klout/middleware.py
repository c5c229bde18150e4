"""Request guards that sit in front of every view."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

NUL = "\x00"
API_PREFIXES = ("/api/", "/v2/", "/1/")
NUL_MESSAGE = (
    "The address or form holds a NUL character (%00), which no name, handle or field may contain."
)


class RefuseNulMiddleware:
    """Answer 400 to a NUL character in the path, the query string or a posted form field.

    PostgreSQL text cannot hold NUL, so a lookup or save with one raised a 500 deep in a view
    (`/search/?q=%00`, `/p/a%00/`, a +K form). Posted fields are read only for views that the CSRF
    check reads them for anyway: a csrf-exempt upload view puts in its own upload handlers first.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIXES):
            return self.get_response(request)  # the APIs validate their input as RFC 9457 problems
        if NUL in request.path or _has_nul(request.GET.lists()):
            return _refused()
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if request.method != "POST" or getattr(view_func, "csrf_exempt", False):
            return None
        if request.path.startswith(API_PREFIXES):
            return None
        return _refused() if _has_nul(request.POST.lists()) else None


def _refused() -> HttpResponse:
    return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")


def _has_nul(lists: Iterable[tuple[str, list[str]]]) -> bool:
    return any(NUL in key or any(NUL in v for v in values) for key, values in lists)
