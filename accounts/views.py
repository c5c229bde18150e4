"""Settings pages: linked accounts, privacy (opt-out, export, delete) and notifications."""

from __future__ import annotations

from allauth.socialaccount.models import SocialAccount
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services, tasks
from accounts.adapters import PROVEN_ACCOUNT_SESSION_KEY
from accounts.forms import (
    DeleteAccountForm,
    LocationForm,
    NotificationPreferenceForm,
    TimeZoneForm,
)
from accounts.linked import claimed_accounts_for, linked_accounts_for, provider_buttons
from accounts.models import ExportJob, ExportStatus, Notification, NotificationPreference
from accounts.time_zones import zone_for
from klout.http import AuthedHttpRequest, HtmxHttpRequest
from klout.paging import page_of
from klout.queueing import QueueUnavailable

SYNC_PARTIAL = "networks/linked_account_sync.html"
NOTIFICATIONS_PAGE_SIZE = 50  # notices to a page, newest first


def _has_sync_partial() -> bool:
    try:
        get_template(SYNC_PARTIAL)
    except TemplateDoesNotExist:
        return False
    return True


def _linked_context(request: AuthedHttpRequest) -> dict[str, object]:
    next_url = reverse("linked_accounts")
    return {
        "linked": linked_accounts_for(request.user.pk),
        "claimed": claimed_accounts_for(request.user.pk),
        "providers": provider_buttons(request, process="connect", next_url=next_url),
        "sync_partial": SYNC_PARTIAL if _has_sync_partial() else "",
    }


@require_GET
@login_required
def linked_accounts(request: AuthedHttpRequest) -> HttpResponse:
    """List the networks the person linked, with sync state; link and unlink."""
    template = "accounts/linked_accounts.html"
    if request.htmx:
        template += "#linked-list"
    return render(request, template, _linked_context(request))


@require_POST
@login_required
def unlink_account(request: AuthedHttpRequest, account_id: int) -> HttpResponse:
    """Unlink one network account (HTMX swaps the list; without JS, back to the page)."""
    get_object_or_404(SocialAccount, pk=account_id, user=request.user)
    try:
        services.unlink_social_account(user_id=request.user.pk, social_account_id=account_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Account unlinked. Its tokens were deleted.")
    if request.htmx:
        return render(
            request, "accounts/linked_accounts.html#linked-list", _linked_context(request)
        )
    return redirect("linked_accounts")


# --- Privacy ----------------------------------------------------------------------------------


@require_GET
@login_required
def privacy(request: AuthedHttpRequest) -> HttpResponse:
    """Opt-out, export and deletion in one place."""
    job = request.user.export_jobs.order_by("-created_at").first()
    return render(request, "accounts/privacy.html", {"job": job})


@require_POST
@login_required
def opt_out(request: AuthedHttpRequest) -> HttpResponse:
    """One click: the signed-in person is no longer scored, shown, searched or served."""
    services.opt_out_person(user_id=request.user.pk)
    messages.success(request, "You are opted out. Nothing about you is scored or shown any more.")
    return redirect("privacy")


@require_POST
@login_required
def start_export(request: AuthedHttpRequest) -> HttpResponse:
    """Queue an export of everything we store about the person."""
    try:
        job = tasks.start_export(user_id=request.user.pk)
    except QueueUnavailable as exc:
        messages.error(request, str(exc))
        job = ExportJob.objects.filter(user=request.user).latest("pk")
    if request.htmx:
        job.refresh_from_db()
        return render(request, "accounts/privacy.html#export-status", {"job": job})
    return redirect("privacy")


@require_GET
@login_required
def export_status(request: AuthedHttpRequest, job_id: int) -> HttpResponse:
    """The export's progress (polled by HTMX every second until it finishes)."""
    job = get_object_or_404(ExportJob, pk=job_id, user=request.user)
    template = "accounts/privacy.html#export-status" if request.htmx else "accounts/privacy.html"
    return render(request, template, {"job": job})


@require_GET
@login_required
def export_download(request: AuthedHttpRequest, job_id: int) -> FileResponse:
    """The finished zip, for its owner only; everyone else gets 404."""
    job = get_object_or_404(ExportJob, pk=job_id, user=request.user, status=ExportStatus.DONE)
    path = services.export_path(job)
    if not path.exists():
        raise Http404("This export has expired; start a new one.")
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)


@require_http_methods(["GET", "POST"])
@login_required
def delete_account(request: AuthedHttpRequest) -> HttpResponse:
    """Delete the person and everything about them, after they type their e-mail and password."""
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user_id = request.user.pk
        logout(request)
        services.delete_user(user_id=user_id)
        messages.success(request, "Your account and everything about you has been deleted.")
        return redirect("home")
    return render(request, "accounts/delete_account.html", {"form": form})


@require_GET
def opt_out_public(request: HtmxHttpRequest) -> HttpResponse:
    """Opt out without signing up: prove control of a network account by signing in with it."""
    return render(
        request,
        "accounts/opt_out_public.html",
        {
            "providers": provider_buttons(
                request, process="redirect", next_url=reverse("opt_out_proven")
            )
        },
    )


@require_http_methods(["GET", "POST"])
def opt_out_proven(request: HtmxHttpRequest) -> HttpResponse:
    """Confirm the opt-out of the network account whose control was just proven."""
    proven = request.session.get(PROVEN_ACCOUNT_SESSION_KEY)
    if not proven:
        messages.error(request, "Sign in with the network account you want to opt out first.")
        return redirect("opt_out_public")
    if request.method == "POST":
        services.opt_out_network_account(
            provider=proven["provider"],
            uid=proven["uid"],
            handle=proven.get("handle", ""),
            external_id=proven.get("external_id", ""),
        )
        del request.session[PROVEN_ACCOUNT_SESSION_KEY]
        return render(request, "accounts/opt_out_done.html", {"proven": proven})
    return render(request, "accounts/opt_out_proven.html", {"proven": proven})


# --- Notifications ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def notification_settings(request: AuthedHttpRequest) -> HttpResponse:
    """How much the person wants to hear from us."""
    preference = services.preferences_for(request.user.pk)
    form = NotificationPreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Notification settings saved.")
        return redirect("notification_settings")
    return render(request, "accounts/notification_settings.html", {"form": form})


@require_http_methods(["GET", "POST"])
@login_required
def notifications(request: AuthedHttpRequest) -> HttpResponse:
    """The person's notifications, newest first; POST marks them all read."""
    mine = Notification.objects.filter(user=request.user)
    if request.method == "POST":
        mine.unread().update(read_at=timezone.now())
        return redirect("notifications")
    page = page_of(request, mine.order_by("-created_at", "-pk"), NOTIFICATIONS_PAGE_SIZE)
    return render(
        request,
        "accounts/notifications.html",
        {"notifications": page.rows, "page": page},
    )


@csrf_exempt  # one-click unsubscribe (RFC 8058) posts from mail clients; the token is the secret
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """Stop the weekly digest from a link in it, signed in or not."""
    preference = NotificationPreference.objects.filter(unsubscribe_token=token).first()
    if preference is None:
        raise Http404("This unsubscribe link is not valid.")
    if request.method == "POST":
        NotificationPreference.objects.filter(pk=preference.pk).update(weekly_digest=False)
        return render(request, "accounts/unsubscribed.html")
    return render(request, "accounts/unsubscribe.html", {"token": token})


# --- Location ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def location_settings(request: AuthedHttpRequest) -> HttpResponse:
    """Where the person is: country and optional region or city (perks target places)."""
    form = LocationForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.set_person_location(
            user_id=request.user.pk,
            country=str(form.cleaned_data["country"] or ""),
            region=form.cleaned_data["region"],
        )
        messages.success(request, "Location saved.")
        return redirect("location_settings")
    return render(
        request,
        "accounts/location_settings.html",
        {"form": form, "suggestion": _reported_location(request.user.pk)},
    )


@require_http_methods(["GET", "POST"])
@login_required
def time_zone_settings(request: AuthedHttpRequest) -> HttpResponse:
    """The time zone the person's hours are shown in (only their own: no id in the URL)."""
    form = TimeZoneForm(request.POST or None, initial={"time_zone": request.user.time_zone})
    if request.method == "POST" and form.is_valid():
        services.set_person_time_zone(
            user_id=request.user.pk, time_zone=form.cleaned_data["time_zone"]
        )
        messages.success(request, "Time zone saved.")
        return redirect("time_zone_settings")
    return render(
        request,
        "accounts/time_zone_settings.html",
        {"form": form, "showing": zone_for(request)},
    )


def _reported_location(user_id: int) -> tuple[str, str] | None:
    """(provider, place) a linked network's profile reports: offered to the person, never set."""
    for account in SocialAccount.objects.filter(user_id=user_id).order_by("pk"):
        place = (account.extra_data or {}).get("location")
        if isinstance(place, str) and place.strip():
            return account.get_provider().name, " ".join(place.split())[:100]
    return None
