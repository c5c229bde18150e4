"""+K: a signed-in person vouches for a subject (person or scored account) on one of its topics.

Limits are held by the database, not only by Python checks:

- **at most 5 per giver per UTC day**: every +K takes a numbered slot 1..5 of its day; a unique
  (giver, day, slot) constraint and a slot range check make a sixth impossible, whatever races;
- **once per (giver, receiver, topic) in any 7-day window**: on PostgreSQL an exclusion
  constraint over `[created_at, expires_at)` (btree_gist); everywhere, the insert is conditional
  on no live +K in the window, taken under the giver's row lock (`lock_giver`);
- **never to oneself**: the receiver is resolved to its canonical subject (a claimed account is
  its person), and a check constraint refuses receiver = giver;
- **the giver has a linked network and signed up at least a day ago**: part of the conditional
  insert's WHERE clause.

A +K taken back within the hour frees its slot (the allowance comes back) and its 7-day window.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

DAILY_LIMIT = 5
REPEAT_WINDOW = dt.timedelta(days=7)
TAKE_BACK_WINDOW = dt.timedelta(hours=1)
MIN_ACCOUNT_AGE = dt.timedelta(days=1)


class PlusKError(ValueError):
    """A +K that may not be given (or taken back); the message says why, in words."""


class PlusKQuerySet(models.QuerySet["PlusK"]):
    def live(self) -> PlusKQuerySet:
        """+K that stand (not taken back)."""
        return self.filter(taken_back_at__isnull=True)

    def to_subject(
        self, *, user_id: int | None = None, account_id: int | None = None
    ) -> PlusKQuerySet:
        """+K received by a person or an account scored on its own."""
        if user_id is not None:
            return self.filter(receiver_user_id=user_id)
        return self.filter(receiver_account_id=account_id)


class PlusK(models.Model):
    """One +K: `giver` vouches for a subject's influence on `topic`."""

    giver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plus_k_given"
    )
    receiver_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="plus_k_received",
    )
    receiver_account = models.ForeignKey(
        "networks.NetworkAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="plus_k_received",
    )
    receiver_klout_id = models.BigIntegerField()  # the receiver's canonical kloutId
    topic = models.ForeignKey("scoring.Topic", on_delete=models.CASCADE, related_name="plus_k")
    day = models.DateField()  # UTC day it was given
    slot = models.PositiveSmallIntegerField(null=True, blank=True)  # 1..5; NULL once taken back
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()  # created_at + 7 days: the repeat window
    taken_back_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[PlusKQuerySet] = PlusKQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        app_label = "scoring"
        constraints = [
            models.CheckConstraint(
                condition=(Q(receiver_user__isnull=False) & Q(receiver_account__isnull=True))
                | (Q(receiver_user__isnull=True) & Q(receiver_account__isnull=False)),
                name="plus_k_has_one_receiver",
            ),
            models.CheckConstraint(
                condition=~Q(receiver_user=F("giver")), name="plus_k_not_to_self"
            ),
            models.CheckConstraint(
                condition=Q(slot__isnull=True) | (Q(slot__gte=1) & Q(slot__lte=DAILY_LIMIT)),
                name="plus_k_slot_in_daily_limit",
            ),
            models.CheckConstraint(
                condition=Q(slot__isnull=False) | Q(taken_back_at__isnull=False),
                name="plus_k_slot_freed_only_when_taken_back",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="plus_k_window_forward"
            ),
            models.UniqueConstraint(
                fields=["giver", "day", "slot"], name="plus_k_one_per_daily_slot"
            ),
        ]
        indexes = [
            models.Index(fields=["giver", "-created_at"], name="plus_k_giver_idx"),
            models.Index(fields=["receiver_klout_id", "topic"], name="plus_k_receiver_idx"),
            models.Index(fields=["topic", "-created_at"], name="plus_k_topic_idx"),
        ]

    def __str__(self) -> str:
        return f"+K {self.giver_id} -> {self.receiver_klout_id} on {self.topic_id}"

    @property
    def can_take_back(self) -> bool:
        """True while the giver may still take it back (within the hour, not yet taken back)."""
        return self.taken_back_at is None and timezone.now() - self.created_at < TAKE_BACK_WINDOW


def lock_giver(user_id: int) -> None:
    """Serialise one giver's +K writes: lock their user row (always the first lock taken)."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk").first()


def remaining_today(*, user_id: int, now: dt.datetime | None = None) -> int:
    """How many +K the person may still give today (UTC)."""
    moment = now or timezone.now()
    used = PlusK.objects.filter(giver_id=user_id, day=moment.astimezone(dt.UTC).date()).filter(
        slot__isnull=False
    )
    return max(0, DAILY_LIMIT - used.count())


def eligibility_problem(*, user_id: int, now: dt.datetime | None = None) -> str:
    """Why this person may not give +K at all yet (empty when they may)."""
    from django.contrib.auth import get_user_model

    from networks.models import NetworkAccount

    moment = now or timezone.now()
    joined = get_user_model().objects.filter(pk=user_id).values_list("date_joined", flat=True)
    when = joined.first()
    if when is None:
        return "unknown person"
    if not NetworkAccount.objects.filter(user_id=user_id).exists():
        return "link a network account before giving +K"
    if moment - when < MIN_ACCOUNT_AGE:
        return "you can give +K from your second day on Klout"
    return ""


def give_plus_k(
    *, giver_id: int, klout_id: str, topic_id: str, now: dt.datetime | None = None
) -> PlusK:
    """Give +K to the subject `klout_id` on one of its shown topics; PlusKError says why not."""
    from django.contrib.auth import get_user_model

    from networks.models import NetworkAccount
    from scoring.kloutids import parse_klout_id, resolve_klout_id
    from scoring.topics import TopicScore

    moment = now or timezone.now()
    subject = resolve_klout_id(klout_id)
    if subject is None:
        raise PlusKError("nobody has that kloutId")
    if subject.user_id == giver_id:
        raise PlusKError("you cannot give +K to yourself or your own accounts")
    shown = (
        TopicScore.objects.current()
        .shown()
        .for_subject(user_id=subject.user_id, account_id=subject.account_id)
        .filter(topic_id=topic_id)
    )
    if not shown.exists():
        raise PlusKError("+K goes on one of the topics shown for them")
    problem = eligibility_problem(user_id=giver_id, now=moment)
    if problem:
        raise PlusKError(problem)
    receiver_klout = parse_klout_id(subject.klout_id)
    assert receiver_klout is not None
    day = moment.astimezone(dt.UTC).date()
    users = get_user_model()._meta.db_table
    accounts = NetworkAccount._meta.db_table
    table = PlusK._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic():
        lock_giver(giver_id)
        used = set(
            PlusK.objects.filter(giver_id=giver_id, day=day, slot__isnull=False).values_list(
                "slot", flat=True
            )
        )
        free = [s for s in range(1, DAILY_LIMIT + 1) if s not in used]
        if not free:
            raise PlusKError(f"you have given your {DAILY_LIMIT} +K for today")
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                # The conditional write: every rule the database can check in one statement.
                cursor.execute(
                    f"""
                    INSERT INTO {table} (giver_id, receiver_user_id, receiver_account_id,
                        receiver_klout_id, topic_id, day, slot, created_at, expires_at)
                    SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s
                    WHERE EXISTS (SELECT 1 FROM {users} u WHERE u.id = %s AND u.date_joined <= %s)
                      AND EXISTS (SELECT 1 FROM {accounts} a WHERE a.user_id = %s)
                      AND NOT EXISTS (
                        SELECT 1 FROM {accounts} a WHERE a.id = %s AND a.user_id = %s)
                      AND NOT EXISTS (
                        SELECT 1 FROM {table} k
                        WHERE k.giver_id = %s AND k.receiver_klout_id = %s AND k.topic_id = %s
                          AND k.taken_back_at IS NULL AND k.expires_at > %s)
                    """,
                    [
                        giver_id,
                        subject.user_id,
                        subject.account_id,
                        receiver_klout,
                        topic_id,
                        day,
                        free[0],
                        adapt(moment),
                        adapt(moment + REPEAT_WINDOW),
                        giver_id,
                        adapt(moment - MIN_ACCOUNT_AGE),
                        giver_id,
                        subject.account_id or -1,
                        giver_id,
                        giver_id,
                        receiver_klout,
                        topic_id,
                        adapt(moment),
                    ],
                )
                inserted = cursor.rowcount
        except IntegrityError as exc:
            raise PlusKError(_integrity_reason(exc)) from None
        if inserted != 1:
            raise PlusKError("you gave them +K on this topic in the last 7 days")
        plus_k = PlusK.objects.get(giver_id=giver_id, day=day, slot=free[0])
        if subject.user_id is not None:
            transaction.on_commit(lambda: _notify_receiver(plus_k))
    return plus_k


def _integrity_reason(exc: IntegrityError) -> str:
    text = str(exc)
    if "plus_k_one_per_daily_slot" in text or "UNIQUE" in text.upper():
        return f"you have given your {DAILY_LIMIT} +K for today"
    if "plus_k_once_per_week" in text:
        return "you gave them +K on this topic in the last 7 days"
    if "plus_k_not_to_self" in text:
        return "you cannot give +K to yourself or your own accounts"
    return "this +K is not allowed"


def take_back_plus_k(*, giver_id: int, plus_k_id: int, now: dt.datetime | None = None) -> PlusK:
    """Take back a +K within the hour: its slot and its 7-day window are free again."""
    moment = now or timezone.now()
    with transaction.atomic():
        lock_giver(giver_id)
        changed = PlusK.objects.filter(
            pk=plus_k_id,
            giver_id=giver_id,
            taken_back_at__isnull=True,
            created_at__gt=moment - TAKE_BACK_WINDOW,
        ).update(slot=None, taken_back_at=moment)
        if changed != 1:
            raise PlusKError("a +K can be taken back by its giver within the hour only")
    return PlusK.objects.get(pk=plus_k_id)


def _notify_receiver(plus_k: PlusK) -> None:
    """Tell the receiver (through accounts' notifications, which batch and respect preferences)."""
    from django.urls import reverse

    from accounts import services as account_services

    assert plus_k.receiver_user_id is not None
    giver = plus_k.giver
    topic = plus_k.topic
    account_services.notify(
        user_id=plus_k.receiver_user_id,
        kind="plus_k",
        title=f"{giver.public_name} gave you +K in {topic.display_name}",
        body="Your peers vouch for your influence on this topic.",
        url=reverse("topic_detail", args=[topic.slug]),
    )
