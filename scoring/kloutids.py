"""kloutIds: one public decimal-string id per scored subject (a person, or an unclaimed account).

A kloutId is the primary key of a `KloutId` row, which names exactly one subject: a user (a
person) or a network account. Ids come from the table's sequence (PostgreSQL) or AUTOINCREMENT
(SQLite), so they are unique across both kinds and never reused, even after a row is deleted; a
row is never re-pointed, so an id is stable forever.

A claimed account keeps its own kloutId, but that id *resolves to its person*: pages, +K, perks
and the API name the person whichever of the two ids they are given, and a person's canonical
kloutId is their own. Unlinking an account makes its id resolve to the account again.

Ids are assigned for every subject of a run when it is published (`assign_klout_ids`, one
statement per kind), for existing rows by migration, and on first use for anyone else
(`klout_id_of`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import ClassVar

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.db.models.functions import Now

# Decimal digits without a leading zero, within PostgreSQL's bigint.
MAX_KLOUT_ID = 2**63 - 1


@dataclasses.dataclass(frozen=True)
class Subject:
    """Who a kloutId names: a person (user_id) or an unclaimed account (account_id)."""

    klout_id: str  # the subject's canonical kloutId (a person's own, not a claimed account's)
    user_id: int | None = None
    account_id: int | None = None

    @property
    def is_person(self) -> bool:
        """True for a person (a user), False for an account scored on its own."""
        return self.user_id is not None


class KloutIdQuerySet(models.QuerySet["KloutId"]):
    def for_users(self, user_ids: Iterable[int]) -> KloutIdQuerySet:
        """The rows of these people."""
        return self.filter(user_id__in=list(user_ids))

    def for_accounts(self, account_ids: Iterable[int]) -> KloutIdQuerySet:
        """The rows of these accounts (their own ids, claimed or not)."""
        return self.filter(account_id__in=list(account_ids))


class KloutId(models.Model):
    """The public id of one scored subject; `pk` is the kloutId's number."""

    id = models.BigAutoField(primary_key=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="klout_identity",
    )
    account = models.OneToOneField(
        "networks.NetworkAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="klout_identity",
    )
    created_at = models.DateTimeField(db_default=Now())

    objects: ClassVar[KloutIdQuerySet] = KloutIdQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        app_label = "scoring"
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(account__isnull=True))
                | (Q(user__isnull=True) & Q(account__isnull=False)),
                name="kloutid_has_one_subject",
            )
        ]

    def __str__(self) -> str:
        return self.value

    @property
    def value(self) -> str:
        """The kloutId as the API and URLs show it: a decimal string."""
        return str(self.pk)


def parse_klout_id(text: str) -> int | None:
    """The number of a well-formed kloutId ("12345"), else None (slugs, junk, out of range)."""
    if not text or not text.isascii() or not text.isdigit() or text[0] == "0" or len(text) > 19:
        return None
    number = int(text)
    return number if number <= MAX_KLOUT_ID else None


def resolve_klout_id(klout_id: str) -> Subject | None:
    """The subject a kloutId names (a claimed account's id names its person), or None."""
    number = parse_klout_id(klout_id)
    if number is None:
        return None
    row = (
        KloutId.objects.filter(pk=number)
        .values_list("user_id", "account_id", "account__user_id")
        .first()
    )
    if row is None:
        return None
    user_id, account_id, owner_id = row
    if user_id is not None:
        return Subject(klout_id=str(number), user_id=user_id)
    if owner_id is not None:
        return Subject(klout_id=klout_id_of(user_id=owner_id), user_id=owner_id)
    return Subject(klout_id=str(number), account_id=account_id)


def subject_of(*, user_id: int | None = None, account_id: int | None = None) -> Subject:
    """The subject for a user or an account (a claimed account is its person), with its kloutId."""
    if account_id is not None and user_id is None:
        from networks.models import NetworkAccount

        owner = NetworkAccount.objects.filter(pk=account_id).values_list("user_id", flat=True)
        user_id = owner.first()
        if user_id is None:
            return Subject(klout_id=_own_id(account_id=account_id), account_id=account_id)
    if user_id is None:
        raise ValueError("a subject is a user or an account")
    return Subject(klout_id=_own_id(user_id=user_id), user_id=user_id)


def klout_id_of(*, user_id: int | None = None, account_id: int | None = None) -> str:
    """A subject's canonical kloutId, assigned on first use (a claimed account: its person's)."""
    return subject_of(user_id=user_id, account_id=account_id).klout_id


def klout_ids_of(
    *, user_ids: Iterable[int] = (), account_ids: Iterable[int] = ()
) -> tuple[dict[int, str], dict[int, str]]:
    """Canonical kloutIds of many subjects in a few queries: ({user id: id}, {account id: id}).

    Claimed accounts map to their person's id. Subjects without an id yet get one.
    """
    from networks.models import NetworkAccount

    user_list, account_list = list(user_ids), list(account_ids)
    users, accounts = set(user_list), set(account_list)
    owners = dict(
        NetworkAccount.objects.filter(pk__in=accounts, user__isnull=False).values_list(
            "pk", "user_id"
        )
    )
    users |= set(owners.values())
    alone = accounts - set(owners)
    by_user = _ids_of(users, "user_id")
    by_alone = _ids_of(alone, "account_id")
    by_account = {a: by_user[u] for a, u in owners.items()} | by_alone
    return {u: by_user[u] for u in user_list}, {a: by_account[a] for a in account_list}


def _ids_of(keys: set[int], column: str) -> dict[int, str]:
    if not keys:
        return {}
    rows = KloutId.objects.filter(**{f"{column}__in": keys}).values_list(column, "pk")
    found = dict(rows.iterator())
    missing = sorted(keys - set(found))
    if missing:
        # Ids for newcomers in one statement; a concurrent creator's row wins and is read back.
        KloutId.objects.bulk_create(
            [KloutId(**{column: key}) for key in missing], ignore_conflicts=True
        )
        more = KloutId.objects.filter(**{f"{column}__in": missing}).values_list(column, "pk")
        found.update(more.iterator())
    return {k: str(v) for k, v in found.items()}


def _own_id(*, user_id: int | None = None, account_id: int | None = None) -> str:
    """The subject's own row, created if missing (a concurrent creator wins; its id is used)."""
    lookup = {"user_id": user_id} if user_id is not None else {"account_id": account_id}
    pk = KloutId.objects.filter(**lookup).values_list("pk", flat=True).first()
    if pk is None:
        try:
            with transaction.atomic():
                pk = KloutId.objects.create(**lookup).pk
        except IntegrityError:
            pk = KloutId.objects.filter(**lookup).values_list("pk", flat=True).get()
    return str(pk)


def assign_klout_ids(*, run_id: int) -> int:
    """Give every subject of a run (its people, then its accounts) a kloutId; return how many new.

    One INSERT ... SELECT per kind, in id order; rows that exist are skipped (a concurrent
    publisher's rows too, through ON CONFLICT), so running it twice assigns nothing.
    """
    from scoring.models import DailyScore

    table = KloutId._meta.db_table
    scores = DailyScore._meta.db_table
    created = 0
    with connection.cursor() as cursor:
        for column in ("user_id", "account_id"):
            cursor.execute(
                f"""
                INSERT INTO {table} ({column})
                SELECT DISTINCT d.{column} FROM {scores} d
                WHERE d.run_id = %s AND d.{column} IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM {table} k WHERE k.{column} = d.{column})
                ORDER BY d.{column}
                ON CONFLICT DO NOTHING
                """,
                [run_id],
            )
            created += max(cursor.rowcount, 0)
    return created
