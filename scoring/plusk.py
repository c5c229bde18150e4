"""+K: a signed-in person vouches for a subject (person or scored account) on one of its topics.

Limits are held by the database, not only by Python checks:

- **at most 5 per giver per UTC day**: every +K takes a numbered slot 1..5 of its day; a unique
  (giver, day, slot) constraint and a slot range check make a sixth impossible, whatever races;
- **once per (giver, receiver, topic) in any 7-day window**: on PostgreSQL an exclusion
  constraint over `[created_at, expires_at)` (btree_gist); everywhere, the insert is conditional
  on no live +K whose window overlaps;
- **never to oneself**: the receiver is resolved to its canonical subject (a claimed account is
  its person), and a check constraint refuses receiver = giver;
- **the giver has a linked network and signed up at least a day ago**, and **the topic is one
  shown for the receiver**: part of the conditional insert's WHERE clause.

A give is one statement (`give_plus_k`): resolving the kloutId, every check and the free slot are
sub-queries of one INSERT ... SELECT, in the caller's transaction or its own. Two gives of one
person racing for a slot or for the week meet the constraints, not a lock: the loser inserts
nothing (ON CONFLICT DO NOTHING) and tries the next free slot, or is told why not.

A +K taken back within the hour frees its slot (the allowance comes back) and its 7-day window.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, ClassVar

from django.conf import settings
from django.db import connection, models, transaction
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

    # No single-column indexes on giver and topic: (giver, day, slot), (giver, -created_at) and
    # (topic, -created_at) lead with them, and every index is one more write per +K.
    giver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="plus_k_given",
        db_index=False,
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
    topic = models.ForeignKey(
        "scoring.Topic", on_delete=models.CASCADE, related_name="plus_k", db_index=False
    )
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
        return NEEDS_NETWORK
    if moment - when < MIN_ACCOUNT_AGE:
        return TOO_NEW
    return ""


NOBODY = "nobody has that kloutId"
TO_SELF = "you cannot give +K to yourself or your own accounts"
NOT_SHOWN = "+K goes on one of the topics shown for them"
NEEDS_NETWORK = "link a network account before giving +K"
TOO_NEW = "you can give +K from your second day on Klout"
REPEATED = "you gave them +K on this topic in the last 7 days"
DAILY_DONE = f"you have given your {DAILY_LIMIT} +K for today"


def give_plus_k(
    *, giver_id: int, klout_id: str, topic_id: str, now: dt.datetime | None = None
) -> PlusK:
    """Give +K to the subject `klout_id` on one of its shown topics; PlusKError says why not.

    One conditional INSERT checks every rule and takes a free daily slot (`_GIVE`); the receiver
    is told once it is committed. A refused insert is explained by a second statement that
    evaluates the same checks (`_CHECKS`); when that finds nothing wrong, another give of the same
    person took the slot between the two, and the insert is tried again with the slots now free.
    """
    from scoring.kloutids import parse_klout_id, resolve_klout_id

    moment = now or timezone.now()
    number = parse_klout_id(klout_id)
    if number is None:
        raise PlusKError(NOBODY)
    give, explain, run_params = _statements(connection.vendor)
    params = _give_params(giver_id=giver_id, klout=number, topic_id=str(topic_id), moment=moment)
    params.update(run_params)
    for _attempt in range(DAILY_LIMIT + 2):
        with _cursor() as cursor:
            cursor.execute(give, params)
            row = cursor.fetchone()
        if row is not None:
            plus_k = _given(row, giver_id=giver_id, topic_id=str(topic_id), moment=moment)
            if plus_k.receiver_user_id is not None:
                notify = functools.partial(
                    _notify_receiver,
                    plus_k,
                    giver_name=_public_name(display_name=row[5], email=row[6]),
                    topic_name=str(row[7]),
                    topic_slug=str(row[8]),
                )
                # After the commit, not inside the +K's transaction: one commit instead of two
                # measured slower on bench/topics.py (about 535 against 625 gives/s), as BEGIN
                # and COMMIT cost two round trips and hold a contested slot longer, while
                # concurrent commits share their WAL flushes anyway.
                transaction.on_commit(notify)
            return plus_k
        with _cursor() as cursor:
            cursor.execute(explain, params)
            checks = cursor.fetchone()
        if checks is not None and checks[0] is None:
            # a claimed account whose person has no kloutId yet: assign it, then try again
            resolve_klout_id(klout_id)
            continue
        problem = _problem(checks)
        if problem:
            raise PlusKError(problem)
    raise PlusKError("this +K could not be given just now; please try again")


def _cursor() -> Any:
    """A cursor for the give's statements, which on PostgreSQL are prepared once per connection.

    Planning the give (a dozen sub-queries) costs the server more than running it, so PostgreSQL
    binds the values itself and keeps the plan (psycopg's prepared statements; Django's own
    cursors bind on the client and never prepare). The cursor is still Django's wrapper: errors,
    query logging and the connection's transaction are the usual ones.
    """
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    pg = connection.connection
    if pg.prepare_threshold is None:
        # Django turns preparing off (for connection poolers) and psycopg then refuses even an
        # explicit request. Only server-binding cursors ever prepare; Django's never do, so
        # this changes nothing for any other query on the connection.
        pg.prepare_threshold = 5
    raw = _prepared_cursor_class()(pg)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


@functools.cache
def _prepared_cursor_class() -> Any:
    import psycopg

    class PreparedCursor(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            return super().execute(query, params, **{**kwargs, "prepare": True})

    return PreparedCursor


def _give_params(
    *, giver_id: int, klout: int, topic_id: str, moment: dt.datetime
) -> dict[str, Any]:
    from scoring.topics import ChoiceState

    adapt = connection.ops.adapt_datetimefield_value
    return {
        "giver": giver_id,
        "klout": klout,
        "topic": topic_id,
        "day": connection.ops.adapt_datefield_value(moment.astimezone(dt.UTC).date()),
        "now": adapt(moment),
        "expires": adapt(moment + REPEAT_WINDOW),
        "week_ago": adapt(moment - REPEAT_WINDOW),
        "joined_by": adapt(moment - MIN_ACCOUNT_AGE),
        "hidden": ChoiceState.HIDDEN.value,
    }


@functools.cache
def _statements(vendor: str) -> tuple[str, str, dict[str, Any]]:
    """The give and explain statements for this database, and the current run query's values.

    Table names come from the models; which run is current comes from the ORM's own query
    (`scoring.topics.current_run_id`), so pages and +K agree on the shown topics.
    """
    from django.contrib.auth import get_user_model

    from networks.models import NetworkAccount
    from scoring.kloutids import KloutId
    from scoring.topics import Topic, TopicChoice, TopicScore, current_run_id

    run_sql, run_values = current_run_id().query.sql_with_params()
    pieces = run_sql.split("%s")
    assert len(pieces) == len(run_values) + 1, "the current run's query has literal %s"
    named = [f"%(run{i})s" for i in range(len(run_values))] + [""]
    names = {
        "plusk": PlusK._meta.db_table,
        "kloutid": KloutId._meta.db_table,
        "users": get_user_model()._meta.db_table,
        "accounts": NetworkAccount._meta.db_table,
        "topicscore": TopicScore._meta.db_table,
        "choice": TopicChoice._meta.db_table,
        "topic": Topic._meta.db_table,
        "run": "".join(p + n for p, n in zip(pieces, named, strict=True)),
        "slots": ", ".join(f"({n})" for n in range(1, DAILY_LIMIT + 1)),
    }
    run_params = {f"run{i}": v for i, v in enumerate(run_values)}
    return _GIVE.format(**names), _EXPLAIN.format(**names), run_params


# Every rule of a +K, evaluated for one (giver, kloutId, topic) at one moment. `subject` resolves
# the kloutId to its canonical receiver: a person, or an account scored on its own (a claimed
# account is its person, whose own kloutId is the receiver's; NULL when the person has none yet).
# `slot` is a free slot of the giver's day, picked at random so that concurrent gives of one
# person rarely pick the same one.
_CHECKS = """
WITH subject AS (
    SELECT COALESCE(k.user_id, a.user_id) AS user_id,
           CASE WHEN k.user_id IS NULL AND a.user_id IS NULL THEN k.account_id END AS account_id,
           CASE WHEN k.user_id IS NULL AND a.user_id IS NOT NULL
                THEN (SELECT p.id FROM {kloutid} p WHERE p.user_id = a.user_id)
                ELSE k.id END AS klout_id
    FROM {kloutid} k LEFT JOIN {accounts} a ON a.id = k.account_id
    WHERE k.id = %(klout)s
),
slots (n) AS (VALUES {slots}),
checks AS (
    SELECT s.user_id, s.account_id, s.klout_id,
        (s.user_id IS NOT NULL AND s.user_id = %(giver)s) AS to_self,
        (EXISTS (
            SELECT 1 FROM {topicscore} ts
            WHERE ts.run_id IN ({run}) AND ts.user_id = s.user_id AND ts.topic_id = %(topic)s
              AND NOT EXISTS (
                SELECT 1 FROM {choice} c
                WHERE c.user_id = s.user_id AND c.topic_id = %(topic)s AND c.state = %(hidden)s))
         OR EXISTS (
            SELECT 1 FROM {topicscore} ts
            WHERE ts.run_id IN ({run}) AND ts.account_id = s.account_id
              AND ts.topic_id = %(topic)s)
        ) AS shown,
        EXISTS (SELECT 1 FROM {accounts} a WHERE a.user_id = %(giver)s) AS linked,
        EXISTS (
            SELECT 1 FROM {users} u WHERE u.id = %(giver)s AND u.date_joined <= %(joined_by)s
        ) AS old_enough,
        EXISTS (
            SELECT 1 FROM {plusk} r
            WHERE r.giver_id = CAST(%(giver)s AS BIGINT) AND r.receiver_klout_id = s.klout_id
              AND r.topic_id = %(topic)s AND r.taken_back_at IS NULL
              AND r.expires_at > %(now)s
              AND r.created_at > %(week_ago)s AND r.created_at < %(expires)s
        ) AS repeated,
        (SELECT slots.n FROM slots
         WHERE NOT EXISTS (
            SELECT 1 FROM {plusk} d
            WHERE d.giver_id = %(giver)s AND d.day = %(day)s AND d.slot = slots.n)
         ORDER BY random() LIMIT 1) AS slot
    FROM subject s
)
"""

# The conditional write: a row only when every rule holds. ON CONFLICT DO NOTHING (no target:
# any unique or exclusion constraint) turns a lost race for a slot or for the week into "no row",
# which the explanation then names, without an error that would abort the caller's transaction.
_GIVE = (
    _CHECKS
    + """
INSERT INTO {plusk} (giver_id, receiver_user_id, receiver_account_id, receiver_klout_id,
                     topic_id, day, slot, created_at, expires_at)
SELECT %(giver)s, c.user_id, c.account_id, c.klout_id, %(topic)s, %(day)s, c.slot,
       %(now)s, %(expires)s
FROM checks c
WHERE c.klout_id IS NOT NULL AND NOT c.to_self AND c.shown AND c.linked AND c.old_enough
  AND NOT c.repeated AND c.slot IS NOT NULL
ON CONFLICT DO NOTHING
RETURNING id, slot, receiver_user_id, receiver_account_id, receiver_klout_id,
    (SELECT u.display_name FROM {users} u WHERE u.id = giver_id),
    (SELECT u.email FROM {users} u WHERE u.id = giver_id),
    (SELECT t.display_name FROM {topic} t WHERE t.id = topic_id),
    (SELECT t.slug FROM {topic} t WHERE t.id = topic_id)
"""
)

_EXPLAIN = (
    _CHECKS
    + """
SELECT c.klout_id, c.to_self, c.shown, c.linked, c.old_enough, c.repeated, c.slot FROM checks c
"""
)


def _problem(checks: tuple[Any, ...] | None) -> str:
    """Why the checks refuse the +K, in words (empty: nothing refuses it now)."""
    if checks is None:
        return NOBODY
    _klout, to_self, shown, linked, old_enough, repeated, slot = checks
    if to_self:
        return TO_SELF
    if not shown:
        return NOT_SHOWN
    if not linked:
        return NEEDS_NETWORK
    if not old_enough:
        return TOO_NEW
    if repeated:
        return REPEATED
    if slot is None:
        return DAILY_DONE
    return ""


def _given(row: tuple[Any, ...], *, giver_id: int, topic_id: str, moment: dt.datetime) -> PlusK:
    plus_k = PlusK(
        pk=row[0],
        giver_id=giver_id,
        receiver_user_id=row[2],
        receiver_account_id=row[3],
        receiver_klout_id=row[4],
        topic_id=topic_id,
        day=moment.astimezone(dt.UTC).date(),
        slot=row[1],
        created_at=moment,
        expires_at=moment + REPEAT_WINDOW,
    )
    plus_k._state.adding = False
    return plus_k


def _public_name(*, display_name: str | None, email: str | None) -> str:
    from django.contrib.auth import get_user_model

    return get_user_model()(display_name=display_name or "", email=email or "").public_name


def take_back_plus_k(*, giver_id: int, plus_k_id: int, now: dt.datetime | None = None) -> PlusK:
    """Take back a +K within the hour: its slot and its 7-day window are free again."""
    moment = now or timezone.now()
    changed = PlusK.objects.filter(
        pk=plus_k_id,
        giver_id=giver_id,
        taken_back_at__isnull=True,
        created_at__gt=moment - TAKE_BACK_WINDOW,
    ).update(slot=None, taken_back_at=moment)
    if changed != 1:
        raise PlusKError("a +K can be taken back by its giver within the hour only")
    return PlusK.objects.get(pk=plus_k_id)


def _notify_receiver(plus_k: PlusK, *, giver_name: str, topic_name: str, topic_slug: str) -> None:
    """Tell the receiver through accounts' notification pipeline (it respects preferences): +K on
    one topic roll up into one notice while it is unread ("3 people gave you +K in Python")."""
    from django.urls import reverse

    from accounts import services as account_services

    assert plus_k.receiver_user_id is not None
    account_services.roll_up_notice(
        user_id=plus_k.receiver_user_id,
        kind="plus_k",
        rollup=f"topic:{plus_k.topic_id}",
        key=f"plus_k:{plus_k.pk}",
        title_one=f"{giver_name} gave you +K in {topic_name}",
        title_many=f"{{count}} people gave you +K in {topic_name}",
        body="Your peers vouch for your influence on this topic.",
        url=reverse("topic_detail", args=[topic_slug]),
    )
