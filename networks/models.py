"""The normalised store of who reacted to whom. Written only through `networks.services`."""

from __future__ import annotations

import re
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q


class Network(models.TextChoices):
    """Every source of interactions. Dataset networks keep their ids apart from live ones."""

    X = "x", "X (Twitter)"
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"
    REDDIT = "reddit", "Reddit"
    GITHUB = "github", "GitHub"
    YOUTUBE = "youtube", "YouTube"
    FACEBOOK = "facebook", "Facebook"
    STACKEXCHANGE = "stackexchange", "Stack Exchange"
    HIGGS = "higgs", "Twitter (Higgs 2012 sample)"
    COLLEGEMSG = "collegemsg", "CollegeMsg"
    KLOUT_SAMPLE = "kloutsample", "Klout reaction sample"
    DEV = "dev", "Development network"


def network_label(network: str) -> str:
    """A network's human name ("Mastodon"), or the raw value for networks we no longer know."""
    try:
        return str(Network(network).label)
    except ValueError:
        return network


# What a profile URL segment cannot carry: a slash, a backslash, controls, and the characters
# that end or escape a path ('?', '#', '%'). "." and ".." would be resolved away by browsers.
_URL_UNSAFE = re.compile(r"[/\\?#%\x00-\x1f\x7f]")


def url_safe_handle(handle: str) -> bool:
    """Whether `handle` can be a profile URL's last segment as it is (non-empty, no '/' ...)."""
    return (
        bool(handle)
        and handle.strip() == handle
        and handle not in {".", ".."}
        and not (_URL_UNSAFE.search(handle))
    )


def clean_handle(raw: str) -> str:
    """A handle as ingest stores it: trimmed, or "" when no URL could carry it (links then use
    the account's id, and a later good handle from the network's API replaces it)."""
    handle = raw.strip()
    return handle if url_safe_handle(handle) else ""


# The one "hidden" rule: an account that is protected, opted out, or claimed by a person who opted
# out is never scored, shown, searched or served. Staging, collect, queries and pages all ask
# `hidden_ids()` / `hidden()` / `visible()`; nothing else spells the rule out.
HIDDEN_BY_FLAGS = Q(protected=True) | Q(opted_out=True)
HIDDEN_BY_OWNER = Q(user__opted_out=True)


class NetworkAccountQuerySet(models.QuerySet["NetworkAccount"]):
    def hidden_ids(self) -> models.QuerySet[NetworkAccount, int]:
        """Ids of the hidden accounts among these (the one rule; a UNION of two index-friendly
        halves, as an OR across the user join would scan every account of the network)."""
        flagged = self.filter(HIDDEN_BY_FLAGS).values_list("pk", flat=True)
        owned = self.filter(HIDDEN_BY_OWNER).values_list("pk", flat=True)
        return flagged.union(owned)

    def hidden(self) -> NetworkAccountQuerySet:
        """Accounts never scored or shown: protected, opted out, or their person opted out."""
        return self.filter(pk__in=NetworkAccount.objects.hidden_ids())

    def visible(self) -> NetworkAccountQuerySet:
        """Accounts that may be scored, shown, searched and served: everything `hidden` is not."""
        return self.exclude(pk__in=NetworkAccount.objects.hidden_ids())

    def claimed_by(self, user_id: int) -> NetworkAccountQuerySet:
        """The accounts a user has linked."""
        return self.filter(user_id=user_id)


class NetworkAccount(models.Model):
    """Every public account seen in ingested data, claimed by a user or not."""

    network = models.CharField(max_length=32, choices=Network.choices)
    external_id = models.CharField(max_length=128)
    # Database defaults too (db_default): bulk imports COPY only an account's id, network,
    # external id and creation time, and PostgreSQL fills in the rest without parsing it per row
    # (measured: COPYing the 304,691 Higgs accounts took 2.1 s instead of 2.9 s).
    handle = models.CharField(max_length=255, blank=True, default="", db_default="")
    # allauth's uid for the login that claims this account, when it is not `external_id`
    # (Mastodon: the login is `id@host`, the account is its actor URI). Tokens are keyed by it.
    login_uid = models.CharField(max_length=255, blank=True, default="", db_default="")
    display_name = models.CharField(max_length=255, blank=True, default="", db_default="")
    protected = models.BooleanField(default=False, db_default=False)
    opted_out = models.BooleanField(default=False, db_default=False)
    # Indexed by the partial account_user_idx below (most accounts are unclaimed).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="network_accounts",
        db_index=False,
    )
    needs_reconnect = models.BooleanField(default=False, db_default=False)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # Set while a sync runs: the conditional update on it is the per-account lock.
    sync_started_at = models.DateTimeField(null=True, blank=True)
    sync_cursor = models.TextField(blank=True, default="", db_default="")
    # Where the walk of the account's own posts stopped (a sync's second walk, see providers/base).
    posts_cursor = models.TextField(blank=True, default="", db_default="")
    last_sync_counts = models.JSONField(
        default=dict, blank=True, db_default=models.Value({}, output_field=models.JSONField())
    )
    last_sync_error = models.TextField(blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[NetworkAccountQuerySet] = NetworkAccountQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "external_id"], name="uniq_account_per_network"
            ),
        ]
        indexes = [
            # Dataset accounts have no handle, and lookups never ask for '': index the rest.
            models.Index(
                fields=["network", "handle"], name="account_handle_idx", condition=~Q(handle="")
            ),
            models.Index(fields=["user"], name="account_user_idx", condition=Q(user__isnull=False)),
            # Each ingested batch asks for the network's hidden accounts: a handful of rows.
            models.Index(
                fields=["network"],
                name="account_hidden_idx",
                condition=Q(protected=True) | Q(opted_out=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.network}:{self.handle or self.external_id}"

    @property
    def slug(self) -> str:
        """What names the account on pages: its handle, else its external id."""
        return self.handle or self.external_id

    @property
    def credential_uid(self) -> str:
        """The uid the account's login and tokens are stored under."""
        return self.login_uid or self.external_id

    @property
    def url_handle(self) -> str | None:
        """The handle when a URL can carry it; None when links must use the account's id."""
        return self.handle if url_safe_handle(self.handle) else None


class PostKind(models.TextChoices):
    ORIGINAL = "original", "Original"
    RESHARE = "reshare", "Reshare"
    REPLY = "reply", "Reply"
    QUOTE = "quote", "Quote"


class Post(models.Model):
    """Something an account published that others can react to."""

    network = models.CharField(max_length=32, choices=Network.choices)
    account = models.ForeignKey(NetworkAccount, on_delete=models.CASCADE, related_name="posts")
    external_id = models.CharField(max_length=128)
    posted_at = models.DateTimeField()
    text = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=PostKind.choices, default=PostKind.ORIGINAL)
    tags = models.JSONField(default=list, blank=True)
    # Reactions the network reports only as a count, with no one behind them (Stack Exchange
    # up-votes): topic influence counts them with a neutral reactor weight. The count as of the
    # latest import; a re-import never lowers it.
    anonymous_reactions = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "external_id"], name="uniq_post_per_network"
            ),
        ]
        indexes = [models.Index(fields=["account", "posted_at"], name="post_account_time_idx")]

    def __str__(self) -> str:
        return f"{self.network}:post:{self.external_id}"


class InteractionKind(models.TextChoices):
    SHARE = "share", "Share"
    REPLY = "reply", "Reply"
    MENTION = "mention", "Mention"
    LIKE = "like", "Like"
    COMMENT = "comment", "Comment"
    QUOTE = "quote", "Quote"
    FOLLOW = "follow", "Follow"
    MESSAGE = "message", "Message"


class InteractionQuerySet(models.QuerySet["Interaction"]):
    def in_window(self, start: object, end: object) -> InteractionQuerySet:
        """Interactions with start <= occurred_at < end (the scoring read path)."""
        return self.filter(occurred_at__gte=start, occurred_at__lt=end)


class Interaction(models.Model):
    """One action by an actor on a receiver's content; append-only, idempotent by source key.

    Designed to be range-partitioned by month on `occurred_at` in PostgreSQL (see README).
    """

    network = models.CharField(max_length=32, choices=Network.choices)
    # The one-column actor and receiver indexes in Meta cover these foreign keys.
    # No database FK constraints: the one write path (`ingest_batch`) resolves ids by joining the
    # account and post tables in the same statement, deletes cascade through Django's collector,
    # and per-row FK triggers cost a third of bulk-ingest time.
    actor = models.ForeignKey(
        NetworkAccount,
        on_delete=models.CASCADE,
        related_name="interactions_made",
        db_index=False,
        db_constraint=False,
    )
    receiver = models.ForeignKey(
        NetworkAccount,
        on_delete=models.CASCADE,
        related_name="interactions_received",
        db_index=False,
        db_constraint=False,
    )
    post = models.ForeignKey(
        Post,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="interactions",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=16, choices=InteractionKind.choices)
    occurred_at = models.DateTimeField()
    source_key = models.CharField(max_length=191)

    objects: ClassVar[InteractionQuerySet] = InteractionQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "source_key"], name="uniq_interaction_source"
            ),
        ]
        # Every index costs each ingested row a descent; keep only those a read path needs.
        # The scoring read (by occurred_at window) uses a BRIN index on PostgreSQL, created by
        # migration 0004 outside the model state (SQLite keeps a btree there): imports and syncs
        # append in time order, so block ranges stay narrow and the index is a few pages.
        # Purges, cascades and per-account counts look up by actor or receiver alone; plain
        # one-column indexes deduplicate repeated ids and stay a fraction of (id, occurred_at).
        indexes = [
            models.Index(fields=["receiver"], name="interaction_receiver_idx"),
            models.Index(fields=["actor"], name="interaction_actor_idx"),
            # Most dataset interactions have no post; index only those that do.
            models.Index(
                fields=["post"], name="interaction_post_idx", condition=Q(post__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} -{self.kind}-> {self.receiver_id} at {self.occurred_at:%Y-%m-%d}"


class SyncStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class SyncRun(models.Model):
    """One import of a file or one incremental sync of a linked account."""

    source = models.CharField(max_length=255)  # e.g. "higgs:/path/file.gz" or "provider:x"
    format = models.CharField(max_length=32, blank=True)  # importer name, or "provider"
    path = models.TextField(blank=True)
    network = models.CharField(max_length=32, choices=Network.choices, blank=True)
    options = models.JSONField(default=dict, blank=True)  # kind, strict, limit
    # Who started it (web uploads): only they may see it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sync_runs",
    )
    account = models.ForeignKey(
        NetworkAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="sync_runs"
    )
    cursor = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    read_count = models.PositiveBigIntegerField(default=0)
    inserted_count = models.PositiveBigIntegerField(default=0)
    skipped_count = models.PositiveBigIntegerField(default=0)
    rejected_count = models.PositiveBigIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # the first errors, with line numbers
    progress = models.FloatField(default=0.0)  # 0..1 for pages that show live progress
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "-started_at"], name="syncrun_account_idx"),
            models.Index(fields=["user", "-started_at"], name="syncrun_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source} ({self.status})"


def suppression_key(network: str, external_id: str) -> str:
    """A keyed hash of an account's network and external id: recognises it, names nobody."""
    from django.utils.crypto import salted_hmac

    value = f"{network}\0{external_id}"
    return salted_hmac("klout.networks.suppression", value, algorithm="sha256").hexdigest()


class SuppressedAccount(models.Model):
    """An account whose person deleted themselves: imports and syncs never store it again.

    Only a keyed hash (`suppression_key`) is kept, so the marker names nobody.
    """

    network = models.CharField(max_length=32, choices=Network.choices)
    key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.network}:suppressed"
