"""Who an API call is about: kloutIds and the legacy network codes.

A subject is a person (a user, the combined score of their linked accounts) or an unclaimed public
network account. A claimed account's kloutId resolves to its person. Hidden subjects (opted out,
protected, deleted) are not found, whichever way they are asked for.

Legacy network codes (`../shared/specs/klout-api.md`): `twitter` (a screen name) and `tw` (a numeric
Twitter id) cover every Twitter-origin network the store holds: X, and the Higgs Twitter sample,
whose anonymised numeric ids stand in for Twitter ids and double as screen names (the profile pages
show them so). `fb` is Facebook. `gp` and `ig` (Google+, Instagram) are not ingested: not found.
"""

from __future__ import annotations

from django.db.models import Q

from networks.models import Network, NetworkAccount
from scoring import kloutids
from scoring.kloutids import Subject, klout_id_of, klout_ids_of

__all__ = ["Subject", "klout_id_of", "klout_ids_of"]

TWITTER_NETWORKS = (Network.X.value, Network.HIGGS.value)
# code -> (networks, how the value names an account)
NETWORK_CODES: dict[str, tuple[tuple[str, ...], str]] = {
    "twitter": (TWITTER_NETWORKS, "handle"),
    "tw": (TWITTER_NETWORKS, "id"),
    "fb": ((Network.FACEBOOK.value,), "id"),
    "gp": ((), "id"),
    "ig": ((), "id"),
}
MAX_ID_CHARS = 64


def _visible_person(user_id: int) -> bool:
    from accounts.models import User

    return User.objects.filter(pk=user_id, opted_out=False, is_active=True).exists()


def resolve_klout_id(value: str) -> Subject | None:
    """The visible subject a kloutId names; a claimed account's id resolves to its person."""
    if len(value) > 19:
        return None
    subject = kloutids.resolve_klout_id(value)
    if subject is None:
        return None
    if subject.user_id is not None:
        return subject if _visible_person(subject.user_id) else None
    visible = NetworkAccount.objects.visible().filter(pk=subject.account_id or 0).exists()
    return subject if visible else None


def subject_of_account(account: NetworkAccount) -> Subject:
    """A claimed account speaks for its person, an unclaimed one for itself."""
    if account.user_id is not None:
        return kloutids.subject_of(user_id=account.user_id)
    return kloutids.subject_of(account_id=account.pk)


def find_accounts(code: str, values: list[str]) -> dict[str, NetworkAccount]:
    """Visible accounts named by a legacy network code, keyed by the value that named them."""
    networks, by = NETWORK_CODES.get(code, ((), "id"))
    # A NUL can be in no stored name (PostgreSQL text refuses it): such a value names nobody.
    wanted = [v for v in values if v and len(v) <= MAX_ID_CHARS and "\x00" not in v]
    if not networks or not wanted:
        return {}
    if by == "handle":
        # Higgs accounts have no handle: their screen name is their numeric id.
        condition = Q(handle__in=wanted) | Q(handle="", external_id__in=wanted)
    else:
        condition = Q(external_id__in=wanted)
    found: dict[str, NetworkAccount] = {}
    rows = (
        NetworkAccount.objects.visible()
        .filter(condition, network__in=networks)
        .order_by("network", "pk")  # X before Higgs when both hold a name
    )
    for account in rows:
        name = account.slug if by == "handle" else account.external_id
        if name in wanted:
            found.setdefault(name, account)
    return found


def find_subject(code: str, value: str) -> tuple[Subject, NetworkAccount] | None:
    """The visible subject behind one network code and value, with the account that named it."""
    account = find_accounts(code, [value]).get(value)
    if account is None:
        return None
    subject = subject_of_account(account)
    if subject.user_id is not None and not _visible_person(subject.user_id):
        return None
    return subject, account


def twitter_account_of(subject: Subject) -> NetworkAccount | None:
    """The subject's Twitter-origin account (for the reverse lookup and v1's twitter_id)."""
    qs = NetworkAccount.objects.visible().filter(network__in=TWITTER_NETWORKS)
    if subject.user_id is not None:
        return qs.filter(user_id=subject.user_id).order_by("pk").first()
    return qs.filter(pk=subject.account_id or 0).first()


def resolve_klout_ids(values: list[str]) -> dict[str, Subject]:
    """`resolve_klout_id` for many ids in a fixed number of queries (bulk lookups)."""
    from accounts.models import User

    numbers = {v: kloutids.parse_klout_id(v) for v in values if len(v) <= 19}
    wanted = {n for n in numbers.values() if n is not None}
    rows = {
        pk: (user_id, account_id, owner_id)
        for pk, user_id, account_id, owner_id in kloutids.KloutId.objects.filter(
            pk__in=wanted
        ).values_list("pk", "user_id", "account_id", "account__user_id")
    }
    people = {u for u, _, o in rows.values() for u in (u, o) if u is not None}
    visible_people = set(
        User.objects.filter(pk__in=people, opted_out=False, is_active=True).values_list(
            "pk", flat=True
        )
    )
    alone = {a for _, a, o in rows.values() if a is not None and o is None}
    visible_accounts = set(
        NetworkAccount.objects.visible().filter(pk__in=alone).values_list("pk", flat=True)
    )
    person_ids, _ = klout_ids_of(user_ids=sorted(visible_people))
    found: dict[str, Subject] = {}
    for value, number in numbers.items():
        if number is None or number not in rows:
            continue
        user_id, account_id, owner_id = rows[number]
        person = user_id if user_id is not None else owner_id
        if person is not None:
            if person in visible_people:
                found[value] = Subject(klout_id=person_ids[person], user_id=person)
        elif account_id in visible_accounts:
            found[value] = Subject(klout_id=str(number), account_id=account_id)
    return found
