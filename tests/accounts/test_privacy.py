"""Privacy: one-click opt-out (signed in or by proving control), export, deletion."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import pytest
from allauth.socialaccount.models import SocialAccount
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import reverse

from accounts import signals
from accounts.models import ExportJob, ExportStatus, Notification, User
from accounts.services import delete_user, export_path, notify
from networks.importers import ImportFormatError
from networks.models import NetworkAccount, SyncRun
from networks.records import InteractionRecord
from networks.services import ingest_batch, run_import, uploads_folder
from scoring.models import DailyScore, Explanation
from scoring.services import compute_day
from tests.accounts.conftest import link_devnet
from tests.factories.accounts import ProviderCredentialFactory, UserFactory
from tests.factories.networks import NetworkAccountFactory, PostFactory
from tests.factories.scoring import DAY, accounts, noon, react

pytestmark = pytest.mark.django_db


class Heard:
    """Collects a signal's kwargs while connected."""

    def __init__(self, signal: object) -> None:
        self.signal = signal
        self.calls: list[dict[str, object]] = []

    def __call__(self, **kwargs: object) -> None:
        self.calls.append(kwargs)

    def __enter__(self) -> Heard:
        self.signal.connect(self)  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc: object) -> None:
        self.signal.disconnect(self)  # type: ignore[attr-defined]


# --- Opt-out ----------------------------------------------------------------------------------


def test_opt_out_button_flags_the_person_and_tells_other_apps(
    alice_client: Client, alice: User
) -> None:
    with Heard(signals.person_opted_out) as heard:
        response = alice_client.post(reverse("opt_out"))
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.opted_out
    assert alice.opted_out_at is not None
    assert heard.calls == [
        {"signal": signals.person_opted_out, "sender": User, "user_id": alice.pk}
    ]


def test_opt_out_needs_a_post(alice_client: Client, alice: User) -> None:
    assert alice_client.get(reverse("opt_out")).status_code == 405
    alice.refresh_from_db()
    assert not alice.opted_out


def test_anyone_can_opt_out_a_network_account_by_proving_control_without_signing_up(
    client: Client,
) -> None:
    # given a stranger on the opt-out page
    page = client.get(reverse("opt_out_public"))
    assert b"Prove it with Devnet" in page.content
    # when they sign in with the devnet account they control and confirm
    response = link_devnet(
        client, "someone_public", process="redirect", next_url="/opt-out/confirm/"
    )
    assert response["Location"] == reverse("opt_out_proven")
    assert b"someone_public" in client.get(reverse("opt_out_proven")).content
    with Heard(signals.network_account_opted_out) as heard:
        done = client.post(reverse("opt_out_proven"))
    # then the network account is opted out, and no user or link was created
    assert done.status_code == 200
    assert heard.calls[0]["provider"] == "devnet"
    assert heard.calls[0]["uid"] == "someone_public"
    assert not User.objects.exists()
    assert not SocialAccount.objects.exists()


def test_proving_control_of_a_linked_account_opts_its_person_out_too(
    alice_client: Client, alice: User, client: Client
) -> None:
    link_devnet(alice_client, "alice_dev")
    link_devnet(client, "alice_dev", process="redirect", next_url="/opt-out/confirm/")
    client.post(reverse("opt_out_proven"))
    alice.refresh_from_db()
    assert alice.opted_out


def test_opt_out_confirmation_without_proof_sends_the_visitor_back(client: Client) -> None:
    response = client.post(reverse("opt_out_proven"))
    assert response["Location"] == reverse("opt_out_public")


# --- Export -----------------------------------------------------------------------------------


def test_export_builds_a_zip_of_everything_about_the_person(
    alice_client: Client, alice: User, bob: User, django_capture_on_commit_callbacks
) -> None:
    # given alice with a link, a credential, a notification and a network account
    link_devnet(alice_client, "alice_dev")
    notify(user_id=alice.pk, kind="score", title="Your score moved")
    NetworkAccountFactory.create(user=alice, handle="alice_dev")
    NetworkAccountFactory.create(user=bob, handle="bob_dev")
    # when she starts an export (the task runs eagerly once the request commits)
    with django_capture_on_commit_callbacks(execute=True):
        started = alice_client.post(reverse("start_export"), headers={"HX-Request": "true"})
    assert b'hx-trigger="every 1s"' in started.content
    job = ExportJob.objects.get(user=alice)
    polled = alice_client.get(
        reverse("export_status", args=[job.pk]), headers={"HX-Request": "true"}
    )
    # then the partial shows the download link and the zip holds her data, not bob's or secrets
    assert b"Download your data" in polled.content
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE
    assert job.progress == 1.0
    with zipfile.ZipFile(export_path(job)) as archive:
        names = set(archive.namelist())
        everything = "".join(archive.read(n).decode() for n in names)
        user_rows = json.loads(archive.read("accounts.user.json"))
    assert {"manifest.json", "socialaccount.socialaccount.user.json"} <= names
    assert "networks.networkaccount.user.json" in names
    assert user_rows[0]["email"] == "alice@example.com"
    assert "password" not in user_rows[0]
    assert "alice_dev" in everything
    assert "Your score moved" in everything
    assert "bob" not in everything
    assert "devnet-access" not in everything


def test_export_includes_sections_other_apps_contribute(
    alice_client: Client, alice: User, django_capture_on_commit_callbacks
) -> None:
    def contribute(**kwargs: object) -> dict[str, object]:
        return {"networks.posts": [{"text": f"post of {kwargs['user_id']}"}]}

    signals.collect_user_data.connect(contribute)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            alice_client.post(reverse("start_export"))
    finally:
        signals.collect_user_data.disconnect(contribute)
    job = ExportJob.objects.get(user=alice)
    with zipfile.ZipFile(export_path(job)) as archive:
        assert json.loads(archive.read("networks.posts.json")) == [{"text": f"post of {alice.pk}"}]


def test_export_status_polls_until_done_then_stops(alice_client: Client, alice: User) -> None:
    job = ExportJob.objects.create(user=alice, status=ExportStatus.RUNNING, progress=0.4)
    url = reverse("export_status", args=[job.pk])
    running = alice_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert "<progress" in running
    assert "<html" not in running  # the partial only
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.DONE, progress=1.0)
    done = alice_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "every 1s" not in done
    assert "Download your data" in done


def test_only_the_owner_can_see_or_download_an_export(
    alice_client: Client, alice: User, charlie_client: Client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("start_export"))
    job = ExportJob.objects.get(user=alice)
    download = reverse("export_download", args=[job.pk])
    owner = alice_client.get(download)
    assert owner.status_code == 200
    assert owner["Content-Disposition"].startswith("attachment")
    assert charlie_client.get(download).status_code == 404
    assert charlie_client.get(reverse("export_status", args=[job.pk])).status_code == 404
    assert Client().get(download).status_code == 302  # anonymous: to the log-in page


def test_privacy_pages_need_a_signed_in_person(client: Client) -> None:
    for name in ("privacy", "delete_account", "linked_accounts", "notification_settings"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


# --- Delete -----------------------------------------------------------------------------------


def test_delete_refuses_a_wrong_password_and_keeps_everything(
    alice_client: Client, alice: User
) -> None:
    response = alice_client.post(
        reverse("delete_account"), {"email": alice.email, "password": "wrong"}
    )
    assert response.status_code == 200
    assert b"That password is not right" in response.content
    assert User.objects.filter(pk=alice.pk).exists()


def test_delete_refuses_someone_elses_email(alice_client: Client, alice: User) -> None:
    response = alice_client.post(
        reverse("delete_account"),
        {"email": "bob@example.com", "password": "correct horse battery staple"},
    )
    assert b"not the e-mail address of this account" in response.content
    assert User.objects.filter(pk=alice.pk).exists()


def _rows_naming(user_id: int, email: str, linked_ids: set[str]) -> list[str]:
    """Walk every model of every app; describe each row that still names the person."""
    found = []
    user_model = apps.get_model("accounts", "User")
    for model in apps.get_models():
        manager = model._default_manager
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is user_model:
                if manager.filter(**{field.attname: user_id}).exists():
                    found.append(f"{model._meta.label}.{field.name} = user id")
            elif isinstance(field, (models.CharField, models.TextField)):
                if manager.filter(**{f"{field.name}__icontains": email}).exists():
                    found.append(f"{model._meta.label}.{field.name} contains the e-mail")
                for linked in linked_ids:
                    if manager.filter(**{field.name: linked}).exists():
                        found.append(f"{model._meta.label}.{field.name} = linked id {linked}")
                    elif manager.filter(**{f"{field.name}__contains": f"@{linked}"}).exists():
                        found.append(f"{model._meta.label}.{field.name} names @{linked}")
            elif isinstance(field, models.JSONField) and model is not user_model:
                for row in manager.values_list(field.name, flat=True):
                    text = json.dumps(row)
                    if email in text or any(f'"{linked}"' in text for linked in linked_ids):
                        found.append(f"{model._meta.label}.{field.name} JSON names the person")
        if model is user_model and manager.filter(pk=user_id).exists():
            found.append("accounts.User row")
    return found


def test_deleting_leaves_no_row_in_any_app_that_names_the_person(
    alice_client: Client, alice: User, bob: User, django_capture_on_commit_callbacks
) -> None:
    # given alice with rows in every app that stores something about people
    link_devnet(alice_client, "alice_dev")
    ProviderCredentialFactory.create(user=alice, provider="github", uid="alice-gh-1")
    notify(user_id=alice.pk, kind="score", title="Your score moved")
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("start_export"))
    alice_client.post(reverse("notification_settings"), {"score_move_threshold": 5, "in_app": "on"})
    # linking claimed (created) her public account in the network store
    mine = NetworkAccount.objects.get(user=alice, external_id="alice_dev")
    PostFactory.create(account=mine)
    # she is scored, and bob's strongest reactor: named in his influencer list and explanations
    bobs = NetworkAccountFactory.create(user=bob, network=mine.network, handle="bob_dev")
    fans = accounts("fan", 6)
    for back in range(1, 4):
        react([(f, mine) for f in fans] + [(mine, bobs)], at=noon(DAY - dt.timedelta(days=back)))
    react([(f, mine) for f in fans] + [(mine, bobs)] * 3 + [(fans[1], bobs)], at=noon(DAY))
    with django_capture_on_commit_callbacks(execute=True):
        compute_day(day=DAY - dt.timedelta(days=1))
        compute_day(day=DAY)
    assert DailyScore.objects.filter(user=alice).exists()
    bob_day = DailyScore.objects.get(user=bob, day=DAY)
    assert mine.pk in {p["account_id"] for p in bob_day.influencers + bob_day.influencees}
    assert Explanation.objects.filter(score__user=bob, about_account=mine).exists()
    # an archive she uploaded waits on disk, and bob's dashboard fragments are cached
    upload = uploads_folder(alice.pk) / "outbox.json"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_text("{}")
    bob_client = Client()
    bob_client.force_login(bob)
    assert "alice_dev" in bob_client.get(reverse("dashboard")).content.decode()
    zip_path = export_path(ExportJob.objects.get(user=alice))
    assert zip_path.exists()
    linked_ids = {"alice_dev", "alice-gh-1"}
    assert _rows_naming(alice.pk, alice.email, linked_ids)  # the walk does find her before

    # when she deletes her account, typing her e-mail and password
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("delete_account"),
            {"email": alice.email, "password": "correct horse battery staple"},
        )

    # then nothing in any model names her id, e-mail or linked account ids; files are gone
    assert response.status_code == 302
    assert _rows_naming(alice.pk, "alice@example.com", linked_ids) == []
    assert not zip_path.exists()
    assert not upload.exists()
    # bob's dashboard (cached before) no longer names her
    assert "alice_dev" not in bob_client.get(reverse("dashboard")).content.decode()
    # and bob is untouched
    assert User.objects.filter(pk=bob.pk).exists()
    assert bob.network_accounts.count() == 1
    # the next sync or import does not re-create or re-score her account
    ingest_batch(
        network=mine.network,
        interactions=[
            InteractionRecord("fan0", "alice_dev", "share", noon(DAY), "after-deletion-1"),
            InteractionRecord("alice_dev", "bob_dev", "share", noon(DAY), "after-deletion-2"),
        ],
    )
    compute_day(day=DAY + dt.timedelta(days=1))
    assert not NetworkAccount.objects.filter(external_id="alice_dev").exists()
    assert _rows_naming(alice.pk, "alice@example.com", linked_ids) == []


def test_an_uploaded_archive_is_removed_once_its_import_is_over(alice: User) -> None:
    folder = uploads_folder(alice.pk)
    folder.mkdir(parents=True, exist_ok=True)
    upload = folder / "broken-outbox.json"
    upload.write_text("not json at all")
    run = SyncRun.objects.create(
        source=str(upload), format="mastodon_outbox", path=str(upload), user=alice
    )

    with pytest.raises(ImportFormatError):
        run_import(sync_run_id=run.pk)

    assert not upload.exists()


def test_delete_user_tells_other_apps_which_linked_accounts_to_purge() -> None:
    person = UserFactory.create()
    SocialAccount.objects.create(user=person, provider="devnet", uid="purge_me")
    with Heard(signals.user_deleting) as heard:
        delete_user(user_id=person.pk)
    assert heard.calls[0]["linked"] == [("devnet", "purge_me")]
    assert heard.calls[0]["email"] == person.email
    assert not Notification.objects.filter(user_id=person.pk).exists()
