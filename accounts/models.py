"""People: the custom user model and person-level privacy flags."""

from __future__ import annotations

import datetime
import secrets
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django_countries.fields import CountryField


class KloutUserManager(UserManager["User"]):
    """Users log in with their e-mail address; there is no username."""

    def _create_user_object(
        self, username: str | None, email: str | None, password: str | None, **extra: Any
    ) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email), **extra)
        user.password = ""
        if password is not None:
            user.set_password(password)
        else:
            user.set_unusable_password()
        return user

    def _create_user(
        self, username: str | None, email: str | None, password: str | None, **extra: Any
    ) -> User:
        user = self._create_user_object(username, email, password, **extra)
        user.save(using=self._db)
        return user

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(None, email, password, **extra)

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(None, email, password, **extra)


class User(AbstractUser):
    """A person who signed up. Their linked network accounts live in `networks`."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", unique=True)
    display_name = models.CharField(max_length=150, blank=True)
    # Person-level opt-out: nothing about this person is scored, shown, searched or served.
    opted_out = models.BooleanField(default=False)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    # Where the person says they are (set in settings, never guessed): perks target places.
    country = CountryField(blank=True)
    region = models.CharField("region or city", max_length=100, blank=True)
    # The person's time zone (IANA name, set in settings); empty: the browser's, else UTC
    # (accounts.time_zones.zone_for).
    time_zone = models.CharField(max_length=64, blank=True, default="", db_default="")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[KloutUserManager] = KloutUserManager()

    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def public_name(self) -> str:
        """The name we show others: the display name, else the part of the e-mail before the @."""
        return self.display_name or self.email.split("@", 1)[0]


class CredentialStatus(models.TextChoices):
    OK = "ok", "Working"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnecting"


class ProviderCredentialQuerySet(models.QuerySet["ProviderCredential"]):
    def expiring_before(self, moment: datetime.datetime) -> ProviderCredentialQuerySet:
        """Working credentials with a refresh token whose access token expires before `moment`."""
        return self.filter(
            status=CredentialStatus.OK, expires_at__lt=moment, refresh_token_enc__gt=b""
        )


class ProviderCredential(models.Model):
    """A linked account's OAuth tokens, encrypted at rest with MultiFernet (see accounts.crypto)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="credentials")
    provider = models.CharField(max_length=64)
    uid = models.CharField(max_length=191)
    access_token_enc = models.BinaryField(default=b"")
    refresh_token_enc = models.BinaryField(default=b"")
    expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=32, choices=CredentialStatus.choices, default=CredentialStatus.OK
    )
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[ProviderCredentialQuerySet] = ProviderCredentialQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "uid"], name="uniq_credential_account"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.uid} ({self.status})"

    @property
    def needs_reconnect(self) -> bool:
        """True when the provider refused our tokens and only the person can fix it."""
        return self.status == CredentialStatus.NEEDS_RECONNECT


class MastodonApp(models.Model):
    """Our OAuth app on one Mastodon instance, registered through /api/v1/apps on first use."""

    domain = models.CharField(max_length=255, unique=True)
    client_id = models.CharField(max_length=255)
    client_secret_enc = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.domain


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Building"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class ExportJob(models.Model):
    """One request for a copy of everything we store about a person."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="export_jobs")
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    progress = models.FloatField(default=0.0)
    file_name = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"export {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        """True once the job stopped, successfully or not (the page stops polling)."""
        return self.status in {ExportStatus.DONE, ExportStatus.FAILED}


class NotificationQuerySet(models.QuerySet["Notification"]):
    def unread(self) -> NotificationQuerySet:
        """Notifications the person has not opened yet."""
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something we told a person in the app (score moves, new badges, perks)."""

    # No index of its own on `user`: both indexes below start with it, and a day's millions of
    # notices maintain the list index and the key, not a third. No database constraint either: it
    # would check each new row one by one; both ways in (accounts.services) insert only people
    # they join to the user table, and deleting a person goes through the ORM's cascade.
    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # The pipeline (accounts.services.send_notices): the day a notice belongs to, and a key that
    # makes it idempotent (the same (user, kind, key) is never told twice).
    day = models.DateField(null=True, blank=True)
    key = models.CharField(max_length=200, blank=True, default="")
    # Set when the notice also went out by e-mail (the person's preferences asked for it).
    emailed_at = models.DateTimeField(null=True, blank=True)
    # A notice that rolls up (accounts.services.roll_up_notice): while it is unread, later notices
    # of the same (person, kind, rollup) add to it instead of standing apart; `count` says how
    # many it holds. Database defaults, so the bulk paths that name their columns need not.
    rollup = models.CharField(max_length=200, blank=True, default="", db_default="")
    count = models.IntegerField(default=1, db_default=1)  # no CHECK: adding it scans no rows

    objects: ClassVar[NotificationQuerySet] = NotificationQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="notification_user_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "key"],
                condition=~models.Q(key=""),
                name="one_notification_per_key",
            ),
            # At most one unread notice per roll-up: concurrent roll-ups meet here and add up.
            # Only rolling notices are in it, so a day's millions of others maintain nothing more.
            models.UniqueConstraint(
                fields=["user", "kind", "rollup"],
                condition=models.Q(read_at__isnull=True) & ~models.Q(rollup=""),
                name="one_unread_notification_per_rollup",
            ),
        ]

    def __str__(self) -> str:
        return self.title


def _new_unsubscribe_token() -> str:
    return secrets.token_urlsafe(24)


class NotificationPreference(models.Model):
    """How much a person wants to hear from us."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="notification_preference"
    )
    score_move_threshold = models.PositiveSmallIntegerField(
        default=3, help_text="Tell me when my score moves by at least this many points."
    )
    in_app = models.BooleanField(default=True, help_text="Show notifications in the app.")
    weekly_digest = models.BooleanField(default=True, help_text="Send me a weekly e-mail digest.")
    perk_email = models.BooleanField(
        default=False,
        help_text="E-mail me when a new perk I qualify for opens, and when a brand I applied to "
        "picks its winners.",
    )
    # Kinds of notice (accounts.notice_kinds) the person turned off: never stored for them.
    muted_kinds = models.JSONField(default=list, blank=True)
    unsubscribe_token = models.CharField(max_length=64, unique=True, default=_new_unsubscribe_token)

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


class DigestSend(models.Model):
    """One weekly digest sent to one person: a redelivered digest task sends nobody twice."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text="The Monday of the week the digest was sent for.")
    notifications = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "week"], name="one_digest_per_user_week")
        ]

    def __str__(self) -> str:
        return f"digest of {self.user_id} for {self.week}"


# --- API keys (partners' access to the public API) ------------------------------------------------

API_KEY_DEFAULT_PER_SECOND = 10  # the original Klout's developer quota
API_KEY_DEFAULT_PER_DAY = 10_000


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        """Keys that may call the API: not revoked."""
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A partner's key to the API. Only its SHA-256 is stored; the key is shown once, at creation.

    Keys are 190+ random bits, so a fast hash is enough (nothing to brute-force), and the hash is
    what every request looks up. `prefix` (the first characters) lets people tell keys apart.
    """

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    hashed = models.CharField(max_length=64, unique=True)
    per_second = models.PositiveIntegerField(default=API_KEY_DEFAULT_PER_SECOND)
    per_day = models.PositiveIntegerField(default=API_KEY_DEFAULT_PER_DAY)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[ApiKeyQuerySet] = ApiKeyQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="apikey_user_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(per_second__gte=1), name="apikey_per_second"),
            models.CheckConstraint(condition=models.Q(per_day__gte=1), name="apikey_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        """True until the key is revoked."""
        return self.revoked_at is None
