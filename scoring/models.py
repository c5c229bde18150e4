"""Scores: algorithm versions, scoring runs, immutable daily scores, explanations and read models.

Written only through `scoring.services` (compute_day, publish_run, discard_run). Pages and the API
read published runs only, through `LatestScore` (one row per scored subject) and `DailyScore`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from networks.models import network_label
from scoring.fields import WrittenJSONField
from scoring.kloutids import KloutId, ProfileSlug  # noqa: F401  (models live with services)
from scoring.plusk import PlusK  # noqa: F401
from scoring.topics import Topic, TopicAlias, TopicChoice, TopicEdge, TopicScore  # noqa: F401


def one_subject(*, name: str) -> models.CheckConstraint:
    """A score belongs to exactly one subject: a user (combined) or a network account."""
    return models.CheckConstraint(
        condition=(Q(user__isnull=False) & Q(account__isnull=True))
        | (Q(user__isnull=True) & Q(account__isnull=False)),
        name=name,
    )


class AlgorithmVersion(models.Model):
    """One version of the score: its engine name and the raw -> 1-100 calibration stored with it."""

    name = models.CharField(max_length=32, unique=True)  # scoring.engine.registry key
    description = models.TextField(blank=True)
    calibration = models.JSONField(default=dict)  # engine Calibration.to_dict(), fixed once set
    is_current = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="one_current_version"
            )
        ]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    COMPUTING = "computing", "Computing"
    HELD = "held", "Held back"
    PUBLISHED = "published", "Published"
    DISCARDED = "discarded", "Discarded"


class ScoringRunQuerySet(models.QuerySet["ScoringRun"]):
    def published(self) -> ScoringRunQuerySet:
        """Runs that pages and the API may show."""
        return self.filter(status=RunStatus.PUBLISHED)


class ScoringRun(models.Model):
    """The computation of one day under one algorithm version; publishing flips its status."""

    day = models.DateField()
    version = models.ForeignKey(AlgorithmVersion, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.COMPUTING)
    held_reason = models.TextField(blank=True)
    progress = models.FloatField(default=0.0)
    stats = models.JSONField(default=dict, blank=True)  # counts, timings, networks seen
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects: ClassVar[ScoringRunQuerySet] = ScoringRunQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints = [
            # At most one live run per day and version; discarded runs stay as an audit trail.
            models.UniqueConstraint(
                fields=["day", "version"],
                condition=~Q(status="discarded"),
                name="one_live_run_per_day_version",
            )
        ]
        indexes = [models.Index(fields=["version", "status", "-day"], name="run_version_day_idx")]

    def __str__(self) -> str:
        return f"{self.version} {self.day} ({self.status})"


class DailyScoreQuerySet(models.QuerySet["DailyScore"]):
    def published(self) -> DailyScoreQuerySet:
        """Scores of published runs only."""
        return self.filter(run__status=RunStatus.PUBLISHED)

    def update(self, **kwargs: Any) -> int:
        """Refused: a daily score is final once written."""
        raise ImmutableScoreError("DailyScore rows are immutable; compute a new run instead")


class ImmutableScoreError(RuntimeError):
    """Someone tried to change a published daily score."""


class DailyScore(models.Model):
    """The score of one subject (a user, or an unclaimed account) on one day. Never updated.

    A subject is exactly one of: a user (the combined score of their linked accounts) or a network
    account (every visible public account, claimed or not).
    """

    # A run writes its scores in bulk: every row names the same run and version, and a database
    # FK check per row would lock that one parent row again and again at commit. The run is
    # created in the same transaction and runs/versions are never deleted under their scores
    # (discard keeps the run; PROTECT), so these two are checked by the ORM, not per row.
    # Their lookups go through score_run_idx and the (subject, day, version) unique indexes.
    run = models.ForeignKey(
        ScoringRun,
        on_delete=models.CASCADE,
        related_name="scores",
        db_index=False,
        db_constraint=False,
    )
    version = models.ForeignKey(
        AlgorithmVersion,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    day = models.DateField()
    # The partial unique indexes below lead with the subject, so they serve its lookups too.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="daily_scores",
        db_index=False,
    )
    account = models.ForeignKey(
        "networks.NetworkAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="daily_scores",
        db_index=False,
    )
    score = models.FloatField()  # 1..100
    raw = models.FloatField()
    true_reach = models.FloatField(default=0.0)  # people
    amplification = models.FloatField(default=1.0)  # 1..100
    network_score = models.FloatField(default=1.0)  # 1..100
    style = models.CharField(max_length=32, blank=True)
    style_reasons = WrittenJSONField(default=list, blank=True)
    network_contributions = WrittenJSONField(default=dict, blank=True)  # network -> share 0..1
    # Top influencers/influencees: [{"account_id", "network", "weight"}, ...] (names are looked up
    # when shown, through the hidden rule); moments: the subject's own posts.
    influencers = WrittenJSONField(default=list, blank=True)
    influencees = WrittenJSONField(default=list, blank=True)
    # Totals behind the top five above (the API's influencer and influencee counts).
    influencers_count = models.PositiveIntegerField(default=0, db_default=0)
    influencees_count = models.PositiveIntegerField(default=0, db_default=0)
    moments = WrittenJSONField(default=list, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[DailyScoreQuerySet] = DailyScoreQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints = [
            one_subject(name="score_has_one_subject"),
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=100), name="score_in_1_100"
            ),
            models.UniqueConstraint(
                fields=["user", "day", "version"],
                condition=Q(user__isnull=False),
                name="one_user_score_per_day_version",
            ),
            models.UniqueConstraint(
                fields=["account", "day", "version"],
                condition=Q(account__isnull=False),
                name="one_account_score_per_day_version",
            ),
        ]
        # A subject's history (subject = X, version = V, by day) reads the unique indexes above.
        indexes = [models.Index(fields=["run"], name="score_run_idx")]

    def __str__(self) -> str:
        return f"{self.day}: {self.score:.1f}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: a daily score is final once written (the database refuses updates too)."""
        if self.pk is not None and not self._state.adding:
            raise ImmutableScoreError("DailyScore rows are immutable; compute a new run instead")
        super().save(*args, **kwargs)

    @property
    def bucket(self) -> str:
        """The decile band Klout showed, e.g. "40-49" (100 is its own band)."""
        return bucket_for(self.score)

    @property
    def rounded(self) -> int:
        """The score as people see it."""
        return round(self.score)


def bucket_for(score: float) -> str:
    """The decile band of a 1-100 score."""
    shown = round(score)
    if shown >= 100:
        return "100"
    low = (shown // 10) * 10
    return f"{low or 1}-{low + 9}"


class Explanation(models.Model):
    """One sentence saying what moved a daily score ("+2.1: 14 new people shared your post").

    The stored text names nobody: a sentence about another person ("your strongest reactor")
    refers to their account, and pages name it at view time only while it is visible
    (`scoring.wording.render_explanations`).
    """

    score = models.ForeignKey(DailyScore, on_delete=models.CASCADE, related_name="explanations")
    points = models.FloatField()
    kind = models.CharField(max_length=32)  # engine Driver.kind: reach, amplification, decay, ...
    text = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)
    about_account = models.ForeignKey(
        "networks.NetworkAccount",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["position"]
        indexes = [models.Index(fields=["score", "position"], name="explanation_score_idx")]

    def __str__(self) -> str:
        return f"{self.points:+.1f}: {self.text}"


class LatestScoreQuerySet(models.QuerySet["LatestScore"]):
    def visible(self) -> LatestScoreQuerySet:
        """Subjects that may be shown: not opted out, not protected."""
        return self.filter(hidden=False)


class LatestScore(models.Model):
    """Read model: the latest published score per subject, rebuilt when a run is published.

    Pages, search, leaderboards and the API read this table, never recompute; the API JSON of a
    row is shaped when first asked for and cached (`scoring.read_model.latest_api_json`).
    On PostgreSQL a publish builds the whole table afresh and swaps it in (`scoring.read_model`),
    so its rows come from one join of the run's scores with existing accounts and users: there
    are no database FK constraints to check row by row (deletes still cascade through the ORM,
    and the removal paths delete these rows first).
    """

    version = models.ForeignKey(
        AlgorithmVersion,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="latest_score",
        db_constraint=False,
    )
    account = models.OneToOneField(
        "networks.NetworkAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="latest_score",
        db_constraint=False,
    )
    # Indexed: deleting daily scores (opt-out, discard) looks up rows by it.
    daily = models.ForeignKey(
        DailyScore, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    day = models.DateField()
    score = models.FloatField()
    change_1d = models.FloatField(null=True, blank=True)
    change_7d = models.FloatField(null=True, blank=True)
    change_30d = models.FloatField(null=True, blank=True)
    network = models.CharField(max_length=32, blank=True)  # for per-network leaderboards
    handle = models.CharField(max_length=255, blank=True)  # denormalised for search
    display_name = models.CharField(max_length=255, blank=True)
    hidden = models.BooleanField(default=False)

    objects: ClassVar[LatestScoreQuerySet] = LatestScoreQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints = [one_subject(name="latest_has_one_subject")]
        indexes = [
            models.Index(fields=["-score"], name="latest_score_idx", condition=Q(hidden=False)),
            models.Index(fields=["network", "-score"], name="latest_network_score_idx"),
            # No plain handle index: search asks for UPPER(handle) LIKE 'Q%' OR a name match,
            # which a btree on handle cannot serve.
        ]

    def __str__(self) -> str:
        return f"{self.handle or self.user_id}: {self.score:.1f}"

    @property
    def network_label(self) -> str:
        """The network's human name ("Stack Exchange"), or the raw value if we no longer know it."""
        return network_label(self.network)


# --- person figures (achievements, notifications, advice) -----------------------------------------


class PersonFigures(models.Model):
    """Per linked user and run: the counts achievements and notifications read, found in bulk.

    Written by the scoring run from the window's arrays (`scoring.figures`), so no one scans the
    store per person: unique mentioners, distinct sharers of one post, counts beyond the top five,
    where their reactions come from, and who newly started acting on their posts.
    """

    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="figures")
    day = models.DateField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(default=0.0)  # best linked account's score in the run
    actions_received = models.PositiveIntegerField(default=0)
    mentioners = models.PositiveIntegerField(default=0)  # unique people who mentioned them
    mentioners_one_day = models.PositiveIntegerField(default=0)  # most in one day
    top_post_sharers = models.PositiveIntegerField(default=0)  # distinct sharers of one post
    posts_shared = models.PositiveIntegerField(default=0)  # their posts shared at least once
    top_moment_reactions = models.PositiveIntegerField(default=0)  # most reactions on one post
    top_network = models.CharField(max_length=32, blank=True)  # where most reactions come from
    top_network_share = models.PositiveSmallIntegerField(default=0)  # percent
    top_post_kind = models.CharField(max_length=16, blank=True)  # original / reshare / reply
    top_post_kind_share = models.PositiveSmallIntegerField(default=0)  # percent of post reactions
    top_hour = models.PositiveSmallIntegerField(null=True, blank=True)  # UTC hour, most reactions
    top_hour_share = models.PositiveSmallIntegerField(default=0)  # percent
    # Plain account ids (no constraint: accounts may be purged while figures stay as history).
    top_influencee_id = models.BigIntegerField(null=True, blank=True)  # who acts on them most
    top_influencer_id = models.BigIntegerField(null=True, blank=True)  # whom they act on most
    new_high_actor_id = models.BigIntegerField(null=True, blank=True)
    new_high_actor_score = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "user"], name="one_figures_per_run_user")
        ]
        indexes = [models.Index(fields=["user", "-day"], name="figures_user_day_idx")]

    def __str__(self) -> str:
        return f"figures of {self.user_id} on {self.day}"
