"""The write paths of accounts: credentials, linking, opt-out, export, deletion, notifications."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import logging
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, mailers
from django.db import connection, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts import signals
from accounts.api_keys import KEY_PREFIX, forget_key, generate_key, hash_key
from accounts.crypto import decrypt_token, encrypt_token
from accounts.external_ids import network_external_id
from accounts.models import (
    ApiKey,
    CredentialStatus,
    ExportJob,
    ExportStatus,
    Notification,
    NotificationPreference,
    ProviderCredential,
    User,
)
from accounts.personal_data import exportable_rows, rows_naming
from accounts.token_refresh import RefreshFailed, RefreshRefused, refresher_for
from klout.bulk import FEW, insert_ignoring_conflicts

logger = logging.getLogger(__name__)

# Refresh this long before expiry so a sync never starts with a dying token.
REFRESH_MARGIN = datetime.timedelta(minutes=15)


# --- Credentials ------------------------------------------------------------------------------


def save_credential(
    *,
    user_id: int,
    provider: str,
    uid: str,
    access_token_enc: bytes,
    refresh_token_enc: bytes,
    expires_at: datetime.datetime | None,
) -> ProviderCredential:
    """Store a link's (already encrypted) tokens; a reconnect clears 'needs reconnect'."""
    previous = ProviderCredential.objects.filter(provider=provider, uid=uid).first()
    credential, _ = ProviderCredential.objects.update_or_create(
        provider=provider,
        uid=uid,
        defaults={
            "user_id": user_id,
            "access_token_enc": access_token_enc,
            "refresh_token_enc": refresh_token_enc,
            "expires_at": expires_at,
            "status": CredentialStatus.OK,
            "last_error": "",
        },
    )
    if previous is not None and previous.needs_reconnect:
        signals.credential_reconnected.send(
            sender=ProviderCredential, user_id=user_id, provider=provider, uid=uid
        )
    return credential


def refresh_credential(*, credential_id: int) -> ProviderCredential:
    """Refresh a credential's access token; a refusal marks it 'needs reconnect'.

    Transient failures (5xx, timeouts) raise RefreshFailed and leave the credential unchanged.
    """
    with transaction.atomic():
        # Locked so two workers never spend the same (rotating) refresh token.
        credential = ProviderCredential.objects.select_for_update().get(pk=credential_id)
        refresher = refresher_for(credential.provider)
        if refresher is None or credential.needs_reconnect:
            return credential
        try:
            tokens = refresher(credential, decrypt_token(credential.refresh_token_enc))
        except RefreshRefused as exc:
            mark_credential_refused(
                user_id=credential.user_id,
                provider=credential.provider,
                uid=credential.uid,
                reason=str(exc),
            )
            credential.refresh_from_db()
            return credential
        credential.access_token_enc = encrypt_token(tokens.access_token)
        credential.refresh_token_enc = encrypt_token(tokens.refresh_token)
        credential.expires_at = tokens.expires_at
        credential.last_error = ""
        credential.save()
        return credential


def mark_credential_refused(*, user_id: int, provider: str, uid: str, reason: str) -> int:
    """The provider refused a token (revoked, expired refresh): the link needs a reconnect."""
    changed = ProviderCredential.objects.filter(user_id=user_id, provider=provider, uid=uid).update(
        status=CredentialStatus.NEEDS_RECONNECT, last_error=reason[:1000], updated_at=timezone.now()
    )
    if changed:
        signals.credential_needs_reconnect.send(
            sender=ProviderCredential, user_id=user_id, provider=provider, uid=uid
        )
    return changed


def refresh_expiring_credentials(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Refresh every working credential that expires soon; return counts by outcome."""
    moment = (now or timezone.now()) + REFRESH_MARGIN
    counts = {"refreshed": 0, "needs_reconnect": 0, "failed": 0}
    ids = ProviderCredential.objects.expiring_before(moment).values_list("pk", flat=True)
    for credential_id in list(ids):
        try:
            credential = refresh_credential(credential_id=credential_id)
        except RefreshFailed as exc:
            logger.warning("credential %s: transient refresh failure: %s", credential_id, exc)
            counts["failed"] += 1
            continue
        counts["needs_reconnect" if credential.needs_reconnect else "refreshed"] += 1
    return counts


# --- Linking ----------------------------------------------------------------------------------


def unlink_social_account(*, user_id: int, social_account_id: int) -> None:
    """Remove a linked account and its tokens; refuse to remove the last way to sign in."""
    account = SocialAccount.objects.select_related("user").get(
        pk=social_account_id, user_id=user_id
    )
    user = account.user
    others = SocialAccount.objects.filter(user_id=user_id).exclude(pk=account.pk).exists()
    if not user.has_usable_password() and not others:
        raise ValidationError(
            "This is your only way to sign in. Set a password first, then unlink it."
        )
    provider, uid = account.provider, account.uid
    external_id = network_external_id(provider, uid, account.extra_data)
    with transaction.atomic():
        ProviderCredential.objects.filter(provider=provider, uid=uid, user_id=user_id).delete()
        account.delete()
        signals.social_account_unlinked.send(
            sender=SocialAccount,
            user_id=user_id,
            provider=provider,
            uid=uid,
            external_id=external_id,
        )


# --- Privacy ----------------------------------------------------------------------------------


def opt_out_person(*, user_id: int) -> User:
    """Opt a person out of everything: not scored, shown, searched or served anywhere."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        if not user.opted_out:
            user.opted_out = True
            user.opted_out_at = timezone.now()
            user.save(update_fields=["opted_out", "opted_out_at"])
        # Sent even when already opted out, so a receiver that missed it catches up.
        signals.person_opted_out.send(sender=User, user_id=user.pk)
    return user


def opt_out_network_account(
    *, provider: str, uid: str, handle: str = "", external_id: str = ""
) -> User | None:
    """Opt out a network account whose control was just proven; its linked person too.

    `external_id` is the id the network store knows it by (Mastodon: the actor URI), when it
    differs from allauth's uid."""
    with transaction.atomic():
        signals.network_account_opted_out.send(
            sender=SocialAccount,
            provider=provider,
            uid=uid,
            external_id=external_id or uid,
            handle=handle,
        )
        linked = SocialAccount.objects.filter(provider=provider, uid=uid).first()
        if linked is None:
            return None
        return opt_out_person(user_id=linked.user_id)


def linked_accounts_of(user_id: int) -> list[tuple[str, str]]:
    """(provider, uid) of every account the person linked."""
    return list(SocialAccount.objects.filter(user_id=user_id).values_list("provider", "uid"))


def create_export_job(*, user_id: int) -> ExportJob:
    """Record a pending export; `accounts.tasks.start_export` queues the task that builds it."""
    return ExportJob.objects.create(user_id=user_id)


def fail_export(*, job_id: int, reason: str) -> None:
    """Put an export that could not be queued in its final state, with the reason shown."""
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportStatus.FAILED, error=reason, finished_at=timezone.now()
    )


def export_user_data(*, job_id: int) -> ExportJob:
    """Build the zip of everything stored about the job's user, updating progress as it goes."""
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, progress=0.0)
    try:
        user = job.user
        linked = linked_accounts_of(user.pk)
        groups = list(rows_naming(user))
        sections: dict[str, Any] = {}
        for done, (label, queryset) in enumerate(groups, start=1):
            rows = exportable_rows(queryset)
            if rows:
                sections[label] = rows
            # The last tenth is for other apps' sections and writing the zip.
            ExportJob.objects.filter(pk=job.pk).update(progress=0.9 * done / len(groups))
        for _receiver, contributed in signals.collect_user_data.send(
            sender=User, user_id=user.pk, linked=linked
        ):
            contributed_sections: dict[str, Any] = contributed or {}  # type: ignore[assignment]
            sections.update(contributed_sections)
        path = _write_export_zip(user=user, job=job, sections=sections)
    except Exception as exc:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, error=str(exc)[:1000], finished_at=timezone.now()
        )
        raise
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE, progress=1.0, file_name=path.name, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def export_path(job: ExportJob) -> Path:
    """Where a finished export's zip lives."""
    return Path(settings.KLOUT_EXPORT_DIR) / job.file_name


def _write_export_zip(*, user: User, job: ExportJob, sections: dict[str, Any]) -> Path:
    directory = Path(settings.KLOUT_EXPORT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"klout-export-{user.pk}-{job.pk}.zip"
    partial = final.with_suffix(".part")
    manifest = {
        "generated_at": timezone.now().isoformat(),
        "user_id": user.pk,
        "sections": sorted(sections),
    }
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        for label, data in sections.items():
            archive.writestr(f"{label}.json", json.dumps(data, indent=2, default=str))
    # Renamed only when complete, so a download never serves half a zip.
    partial.replace(final)
    return final


def delete_user(*, user_id: int) -> None:
    """Delete the person and every row that names them, in every app, and their export files."""
    user = User.objects.get(pk=user_id)
    linked = linked_accounts_of(user_id)
    files = [export_path(job) for job in user.export_jobs.exclude(file_name="")]
    with transaction.atomic():
        signals.user_deleting.send(sender=User, user_id=user_id, email=user.email, linked=linked)
        for label, queryset in rows_naming(user):
            if label != "accounts.user":
                # Explicit, so rows whose key is SET_NULL or PROTECT still go.
                queryset.delete()
        user.delete()
    for path in files:
        path.unlink(missing_ok=True)


# --- Notifications ----------------------------------------------------------------------------


def preferences_for(user_id: int) -> NotificationPreference:
    """The person's notification preferences, created with defaults on first use."""
    preference, _ = NotificationPreference.objects.get_or_create(user_id=user_id)
    return preference


@dataclasses.dataclass(frozen=True)
class Notice:
    """Something to tell one person; `key` makes it idempotent (empty: one per day and content)."""

    user_id: int
    kind: str
    title: str
    body: str = ""
    url: str = ""
    key: str = ""
    day: datetime.date | None = None
    # A NotificationPreference flag: when the person set it, the notice also goes by e-mail.
    email_if: str = ""

    def stored_key(self, day: datetime.date) -> str:
        """The key kept on the row: the given one, else the day and a digest of the content."""
        if self.key:
            return self.key[:200]
        digest = hashlib.sha256(f"{self.title}\x1f{self.body}\x1f{self.url}".encode()).hexdigest()
        return f"{day.isoformat()}:{digest[:32]}"


def send_notices(*, notices: Iterable[Notice]) -> int:
    """The one notification pipeline: store a batch of notices in bulk; return how many are new.

    A notice whose person turned in-app notifications off, or turned its kind off, is dropped; one
    whose (person, kind, key) was already told is skipped, so building the same day twice sends
    nothing new. Notices with `email_if` are then e-mailed to the people whose preference of that
    name is set, once each.
    """
    today = timezone.now().date()
    notices = list(notices)
    preferences = NotificationPreference.objects.filter(Q(in_app=False) | ~Q(muted_kinds=[]))
    people = {n.user_id for n in notices}
    if len(people) <= FEW:  # a notice or two (a +K): ask about these people, not every muted one
        preferences = preferences.filter(user_id__in=people)
    muted: set[int] = set()
    muted_kinds: set[tuple[int, str]] = set()
    for user_id, in_app, kinds in preferences.values_list("user_id", "in_app", "muted_kinds"):
        if not in_app:
            muted.add(user_id)
        muted_kinds.update((user_id, kind) for kind in kinds)
    now = timezone.now()
    columns = ("user_id", "kind", "title", "body", "url", "key", "day", "created_at")
    to_email: set[tuple[str, str, str]] = set()

    def rows() -> Iterable[tuple[object, ...]]:
        for n in notices:
            if n.user_id in muted or (n.user_id, n.kind) in muted_kinds:
                continue
            key = n.stored_key(n.day or today)
            if n.email_if:
                to_email.add((n.kind[:64], key, n.email_if))
            yield (
                n.user_id,
                n.kind[:64],
                n.title[:200],
                n.body,
                n.url[:500],
                key,
                n.day or today,
                now,
            )

    added = insert_ignoring_conflicts(Notification, columns, rows(), existing=("user_id", User))
    _email_grouped(to_email)
    return added


EMAIL_CHUNK = 500


def email_notices(*, kind: str, key: str, preference: str) -> int:
    """E-mail the stored notices of (kind, key) not e-mailed yet to the people whose preference
    `preference` is set; each notice goes at most once (marked before sending, under a row lock
    that a concurrent delivery skips). Returns how many were sent."""
    return _email_stored(kind=kind, keys=[key], preference=preference)


def _email_grouped(email: Iterable[tuple[str, str, str]]) -> None:
    """`_email_stored` once per (kind, preference) for every key named with them."""
    keys: dict[tuple[str, str], set[str]] = {}
    for kind, key, preference in email:
        keys.setdefault((kind, preference), set()).add(key)
    for (kind, preference), named in sorted(keys.items()):
        _email_stored(kind=kind, keys=sorted(named), preference=preference)


def _email_stored(*, kind: str, keys: Sequence[str], preference: str) -> int:
    if not isinstance(NotificationPreference._meta.get_field(preference), models.BooleanField):
        raise ValueError(f"{preference} is not a yes/no notification preference")
    wanted = (
        Notification.objects.filter(
            kind=kind,
            key__in=keys,
            emailed_at__isnull=True,
            user__is_active=True,
            user__opted_out=False,
            **{f"user__notification_preference__{preference}": True},
        )
        .select_related("user")
        .order_by("pk")
    )
    site = settings.KLOUT_SITE_URL
    settings_url = site + reverse("notification_settings")
    sent = 0
    while True:
        with transaction.atomic():
            chunk = list(wanted.select_for_update(skip_locked=True, of=("self",))[:EMAIL_CHUNK])
            if not chunk:
                return sent
            Notification.objects.filter(pk__in=[n.pk for n in chunk]).update(
                emailed_at=timezone.now()
            )
            messages = [
                EmailMessage(
                    subject=n.title,
                    body="\n\n".join(
                        part
                        for part in (
                            n.body,
                            site + n.url if n.url else "",
                            f"You get these e-mails because you asked for them: {settings_url}",
                        )
                        if part
                    ),
                    to=[n.user.email],
                    headers={"List-Unsubscribe": f"<{settings_url}>"},
                )
                for n in chunk
            ]
            # A failure rolls the marks back, so a retry sends what did not go.
            mailers.default.send_messages(messages)
        sent += len(chunk)


def _kind_not_muted(kind: str) -> str:
    """SQL true when the kind (an SQL expression, or a %s placeholder) is not among the muted
    kinds of the preferences row `p`: jsonb containment on PostgreSQL, json_each on SQLite."""
    if connection.vendor == "postgresql":
        kind = f"{kind}::text" if kind == "%s" else kind
        return f"NOT (COALESCE(p.muted_kinds, '[]'::jsonb) @> jsonb_build_array({kind}))"
    return f"NOT EXISTS (SELECT 1 FROM json_each(p.muted_kinds) m WHERE m.value = {kind})"


def send_notice_rows(
    *, sql: str, params: Sequence[Any], email: Iterable[tuple[str, str, str]] = ()
) -> int:
    """The same pipeline for notices built in the database, a whole day's in one statement.

    `sql` selects columns named user_id, kind, title, body, url, key and day, with a non-empty key
    per row; the
    rows are stored under the rules of `send_notices` (muted people and kinds, opted-out and
    inactive people dropped; a (person, kind, key) already told skipped) by one INSERT … SELECT,
    so a million people's notices never pass through Python one by one. Returns how many are new.
    `email` names (kind, key, preference) triples whose stored notices are then e-mailed to the
    people who set that preference, once each (`email_notices`, as `Notice.email_if` does).
    """
    q = connection.ops.quote_name
    table, users = q(Notification._meta.db_table), q(User._meta.db_table)
    preferences = q(NotificationPreference._meta.db_table)
    kind_on = _kind_not_muted("n.kind")
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Idempotent (a re-run inserts nothing twice): the commit need not wait for the disk;
            # the joins of a day's build fit in memory rather than spilling in batches.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            f"INSERT INTO {table} (user_id, kind, title, body, url, key, day, created_at) "
            "SELECT n.user_id, SUBSTR(n.kind, 1, 64), SUBSTR(n.title, 1, 200), n.body, "
            "SUBSTR(n.url, 1, 500), SUBSTR(n.key, 1, 200), n.day, %s "
            f"FROM ({sql}) n "
            f"JOIN {users} u ON u.id = n.user_id AND u.is_active AND NOT u.opted_out "
            f"LEFT JOIN {preferences} p ON p.user_id = n.user_id "
            f"WHERE n.key <> '' AND (p.user_id IS NULL OR (p.in_app AND {kind_on})) "
            # In person order: the indexes (all led by the person) are then walked once, in
            # order, rather than once per kind at random.
            "ORDER BY n.user_id ON CONFLICT DO NOTHING",
            [timezone.now(), *params],
        )
        added = max(cursor.rowcount, 0)
    email = list(email)
    if email and added >= ANALYZE_AFTER and connection.vendor == "postgresql":
        # The e-mail step's plan needs statistics that know of the rows just added: planned
        # on the old ones, it walked every new notice once per chunk of e-mails (0.5 s each at
        # 97k notices, bench/perks.py tell), instead of starting from the people who asked.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
    # Every time, not only when something was added: a run that stored the notices and died
    # before mailing them mails them on the next run.
    _email_grouped(email)
    return added


ANALYZE_AFTER = 10_000  # new notices after which send_notice_rows refreshes the statistics


def roll_up_notice(
    *,
    user_id: int,
    kind: str,
    rollup: str,
    key: str,
    title_one: str,
    title_many: str,
    body: str = "",
    url: str = "",
    day: datetime.date | None = None,
) -> bool:
    """Tell one person something that adds up while they have not read it: the first notice of
    (person, kind, `rollup`) is stored with `title_one`; each later one, until it is read, counts
    into it (`count` + 1, `title_many` with `{count}`, the newest body and url) and shows it as
    new again. One statement: the unread roll-up is unique in the database, so concurrent
    notices meet there and each adds one. Muted people and kinds get nothing. True when stored.
    """
    if not rollup or not key:
        raise ValueError("a rolled-up notice needs a rollup and a key")
    before, marker, after = title_many.partition("{count}")
    if not marker:
        raise ValueError("title_many says {count}")
    q = connection.ops.quote_name
    table, users = q(Notification._meta.db_table), q(User._meta.db_table)
    preferences = q(NotificationPreference._meta.db_table)
    kind_on = _kind_not_muted("%s")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS n (user_id, kind, title, body, url, key, day, created_at,"
            " rollup, count) "
            "SELECT u.id, %s, %s, %s, %s, %s, %s, %s, %s, 1 "
            f"FROM {users} u LEFT JOIN {preferences} p ON p.user_id = u.id "
            "WHERE u.id = %s AND u.is_active AND NOT u.opted_out "
            f"AND (p.user_id IS NULL OR (p.in_app AND {kind_on})) "
            # The predicate of the unique index `one_unread_notification_per_rollup`, as written.
            "ON CONFLICT (user_id, kind, rollup) WHERE (read_at IS NULL AND NOT (rollup = '')) "
            "DO UPDATE SET count = n.count + 1, "
            "title = SUBSTR(%s || CAST(n.count + 1 AS TEXT) || %s, 1, 200), "
            "body = EXCLUDED.body, url = EXCLUDED.url, day = EXCLUDED.day, "
            "created_at = EXCLUDED.created_at",
            [
                kind[:64],
                title_one[:200],
                body,
                url[:500],
                key[:200],
                day or now.date(),
                now,
                rollup[:200],
                user_id,
                kind[:64],
                before,
                after,
            ],
        )
        return cursor.rowcount > 0


def notify(
    *,
    user_id: int,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    key: str = "",
    day: datetime.date | None = None,
) -> Notification | None:
    """Tell one person something now, through the pipeline; None when muted or already told."""
    preferences_for(user_id)  # as before: the person's preferences (and unsubscribe token) exist
    notice = Notice(user_id=user_id, kind=kind, title=title, body=body, url=url, key=key, day=day)
    if not send_notices(notices=[notice]):
        return None
    stored = notice.stored_key(day or timezone.now().date())
    return Notification.objects.filter(user_id=user_id, kind=kind[:64], key=stored).first()


# --- Location ---------------------------------------------------------------------------------


def set_person_location(*, user_id: int, country: str, region: str = "") -> User:
    """Record where the person says they are; higher apps (perks) hear of it by signal."""
    region = " ".join(region.split())[:100]
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        user.country = country
        user.region = region if country else ""
        user.save(update_fields=["country", "region"])
        signals.person_location_changed.send(
            sender=User, user_id=user.pk, country=str(user.country), region=user.region
        )
    return user


def set_person_time_zone(*, user_id: int, time_zone: str) -> User:
    """Record the time zone the person's hours are shown in (empty: their browser's, or UTC)."""
    from accounts.time_zones import is_known

    if time_zone and not is_known(time_zone):
        raise ValidationError(f"{time_zone} is not a time zone we know.")
    User.objects.filter(pk=user_id).update(time_zone=time_zone)
    return User.objects.get(pk=user_id)


# --- API keys ---------------------------------------------------------------------------------


class ApiKeyError(ValueError):
    """The key cannot be changed that way (revoked, someone else's, a bad quota)."""


def create_api_key(*, name: str, user_id: int | None = None) -> tuple[ApiKey, str]:
    """A new key for a partner: returns the row and the key itself, which is never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ApiKeyError("A key needs a name of 1 to 100 characters.")
    raw = generate_key()
    key = ApiKey.objects.create(
        user_id=user_id, name=name, prefix=raw[: len(KEY_PREFIX) + 6], hashed=hash_key(raw)
    )
    return key, raw


def _owned_key(*, key_id: int, user_id: int | None) -> ApiKey:
    qs = ApiKey.objects.select_for_update().filter(pk=key_id)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    key = qs.first()
    if key is None:
        raise ApiKeyError("No such key.")
    return key


def rotate_api_key(*, key_id: int, user_id: int | None) -> tuple[ApiKey, str]:
    """Replace a key's secret (same name, quotas and counters); the old secret stops at once."""
    with transaction.atomic():
        key = _owned_key(key_id=key_id, user_id=user_id)
        if not key.is_active:
            raise ApiKeyError("A revoked key cannot be rotated; create a new one.")
        old = key.hashed
        raw = generate_key()
        key.hashed = hash_key(raw)
        key.prefix = raw[: len(KEY_PREFIX) + 6]
        key.save(update_fields=["hashed", "prefix"])
        transaction.on_commit(lambda: forget_key(old))
    return key, raw


def revoke_api_key(*, key_id: int, user_id: int | None) -> ApiKey:
    """Stop a key for good (its row stays so its calls per day can still be seen)."""
    with transaction.atomic():
        key = _owned_key(key_id=key_id, user_id=user_id)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
        hashed = key.hashed
        transaction.on_commit(lambda: forget_key(hashed))
    return key


def set_api_key_quota(*, key_id: int, per_second: int, per_day: int) -> ApiKey:
    """Staff raise (or lower) one key's quotas; the new limits apply from the next call."""
    if per_second < 1 or per_day < 1:
        raise ApiKeyError("Quotas are at least one call.")
    with transaction.atomic():
        key = _owned_key(key_id=key_id, user_id=None)
        key.per_second, key.per_day = per_second, per_day
        key.save(update_fields=["per_second", "per_day"])
        hashed = key.hashed
        transaction.on_commit(lambda: forget_key(hashed))
    return key


def rename_api_key(*, key_id: int, user_id: int, name: str) -> ApiKey:
    """Give a key another name (its secret and counters stay)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ApiKeyError("A key needs a name of 1 to 100 characters.")
    with transaction.atomic():
        key = _owned_key(key_id=key_id, user_id=user_id)
        key.name = name
        key.save(update_fields=["name"])
    return key
