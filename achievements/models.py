"""Achievements people unlocked. The rules themselves are pure code (`achievements.rules`).

Written only by `achievements.services.evaluate_achievements`; one row per (person, achievement,
level), enforced by the database, so evaluating the same day twice unlocks nothing new.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from achievements.rules import LEVEL_NAMES, RULES_BY_KEY, Rule


class UnlockQuerySet(models.QuerySet["Unlock"]):
    def of_run(self, run_id: int) -> UnlockQuerySet:
        """Unlocks a given scoring run's evaluation made."""
        return self.filter(run_id=run_id)


class Unlock(models.Model):
    """A person reached one level (1 bronze, 2 silver, 3 gold) of one achievement."""

    # No single-column indexes on the keys: the unique (user, achievement, level) serves lookups by
    # person and `unlock_run_idx` by run; a million-row evaluation maintains three indexes, not six.
    # No database constraints on them either: a constraint checks each of millions of new rows one
    # by one (half the first evaluation's time). The one writer inserts only people it joins to
    # the user table in the same statement, and deletes go through the ORM, which cascades (user)
    # and sets NULL (run) itself.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="achievement_unlocks",
        db_index=False,
        db_constraint=False,
    )
    achievement = models.CharField(max_length=32)  # achievements.rules key
    level = models.PositiveSmallIntegerField()
    day = models.DateField()  # the published day whose figures reached it
    run = models.ForeignKey(
        "scoring.ScoringRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    unlocked_at = models.DateTimeField(default=timezone.now)

    objects = UnlockQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "achievement", "level"], name="one_unlock_per_level"
            ),
            models.CheckConstraint(condition=Q(level__gte=1) & Q(level__lte=3), name="level_1_3"),
        ]
        indexes = [models.Index(fields=["run"], name="unlock_run_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.achievement} {self.level_name}"

    @property
    def rule(self) -> Rule | None:
        """The rule this unlock is for (None if a rule was retired)."""
        return RULES_BY_KEY.get(self.achievement)

    @property
    def level_name(self) -> str:
        """ "bronze", "silver" or "gold"."""
        return LEVEL_NAMES.get(self.level, "none")
