"""Pages for personal imports and live sync state; each view serves its page and HTMX fragment."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from klout.http import AuthedHttpRequest
from klout.queueing import QueueUnavailable
from networks import services
from networks.forms import ArchiveUploadForm
from networks.importers import ImportFormatError
from networks.models import NetworkAccount, SyncRun, SyncStatus

RECENT_IMPORTS = 10


def _archive_owner(user_id: int, format: str) -> NetworkAccount | None:
    network = "x" if format == "x_archive" else "mastodon"
    return NetworkAccount.objects.claimed_by(user_id).filter(network=network).first()


@require_http_methods(["GET", "POST"])
@login_required
def import_archive(request: AuthedHttpRequest) -> HttpResponse:
    """Upload your own X archive or Mastodon outbox; watch the import run."""
    form = ArchiveUploadForm()
    if request.method == "POST":
        form = ArchiveUploadForm(request.POST, request.FILES)
        if form.is_valid():
            format = form.cleaned_data["format"]
            owner = _archive_owner(request.user.pk, format)
            if owner is None:
                form.add_error(None, "Link that network's account first, so we know it is yours.")
            else:
                folder = services.uploads_folder(request.user.pk)
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"{uuid.uuid4().hex}-{Path(form.cleaned_data['file'].name).name}"
                with path.open("wb") as out:
                    for chunk in form.cleaned_data["file"].chunks():
                        out.write(chunk)
                try:
                    run = services.start_import(
                        format=format,
                        path=str(path),
                        network=owner.network,
                        account=owner.external_id,
                        user_id=request.user.pk,
                    )
                except ImportFormatError as exc:
                    form.add_error("file", str(exc))
                else:
                    try:
                        services.queue_import(run=run)
                    except QueueUnavailable as exc:
                        messages.error(request, str(exc))
                    else:
                        messages.success(request, "Import started.")
                    return redirect("import_archive")
    runs = SyncRun.objects.filter(user_id=request.user.pk, account__isnull=True).order_by(
        "-started_at"
    )[:RECENT_IMPORTS]
    context = {
        "form": form,
        "runs": runs,
        "running": any(r.status == SyncStatus.RUNNING for r in runs),
    }
    if request.htmx and request.method == "GET":
        return render(request, "networks/import_archive.html#import-runs", context)
    return render(request, "networks/import_archive.html", context, status=200)


@require_GET
@login_required
def import_run(request: AuthedHttpRequest, run_id: int) -> HttpResponse:
    """One import's progress (only its owner may see it)."""
    run = get_object_or_404(SyncRun, pk=run_id, user_id=request.user.pk)
    return render(request, "networks/import_run.html", {"run": run})


def _sync_state(account: NetworkAccount) -> dict[str, object]:
    latest = account.sync_runs.order_by("-started_at").first()
    return services.sync_details(account, latest)


@require_http_methods(["GET", "POST"])
@login_required
def sync_state(request: AuthedHttpRequest, account_id: int) -> HttpResponse:
    """A linked account's sync state; POST starts a sync now ("sync now")."""
    account = get_object_or_404(NetworkAccount, pk=account_id, user_id=request.user.pk)
    if request.method == "POST":
        try:
            services.queue_account_sync(account_id=account.pk)
        except services.SyncBusy:
            pass
        except QueueUnavailable as exc:
            messages.error(request, str(exc))
        if not request.htmx:
            return redirect("linked_accounts")
        account.refresh_from_db()
    return render(request, "networks/sync_state.html", {"details": _sync_state(account)})
