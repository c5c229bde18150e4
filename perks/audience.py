"""Who a campaign reaches: a person's eligibility facts, and the audience read model for previews.

`person_facts` reads one person for a claim or the perks page; `preview` counts eligible scored
people by tier and country from the `Audience` read model (one grouped query), which
`rebuild_audience` refills from the latest-score read model whenever a scoring day is published.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django_countries import countries

from accounts.models import User
from networks.models import Network, NetworkAccount
from perks import topics as topic_scores
from perks.eligibility import Person, Rules, normalise_region, shown
from perks.models import Audience, AudienceCell, AudienceJoinCell, network_label
from scoring.models import LatestScore

NETWORK_BITS = {network.value: 1 << index for index, network in enumerate(Network)}


def network_bit(network: str) -> int:
    """The bit of one network in `Audience.network_bits` (0 for a network we do not know)."""
    return NETWORK_BITS.get(network, 0)


_UNREAD = object()


def person_facts(
    user: User, *, topics: bool = True, networks: bool = True, latest: object = _UNREAD
) -> Person:
    """Everything eligibility needs about one person (up to three small queries; a claim skips
    the topic and network ones when its campaign has no such rule, and passes the score it read
    with the person)."""
    if latest is _UNREAD:
        latest = (
            LatestScore.objects.filter(user_id=user.pk, hidden=False)
            .values_list("score", flat=True)
            .first()
        )
    linked = (
        NetworkAccount.objects.filter(user_id=user.pk).values_list("network", flat=True)
        if networks
        else []
    )
    return Person(
        score=None if user.opted_out or latest is None else float(cast(float, latest)),
        topic_scores=topic_scores.scores_for(user.pk) if topics else {},
        country=str(user.country or ""),
        region=user.region,
        networks=frozenset(network_label(n) for n in set(linked)),
        joined=user.date_joined.date(),
    )


def facts_of(user_id: int, *, topics: bool = True, networks: bool = True) -> Person:
    """`person_facts` by id, the person and their score read in one query (the claim path)."""
    latest = LatestScore.objects.filter(user_id=OuterRef("pk"), hidden=False).values("score")[:1]
    user = (
        User.objects.only("country", "region", "date_joined", "opted_out")
        .annotate(latest=Subquery(latest))
        .get(pk=user_id)
    )
    return person_facts(user, topics=topics, networks=networks, latest=user.latest)


@dataclass
class Preview:
    """Eligible people now, in total, per tier (by tier name) and per country (by name)."""

    total: int = 0
    by_tier: dict[str, int] = field(default_factory=dict)
    by_country: list[tuple[str, int]] = field(default_factory=list)


def audience_for(rules: Rules, *, networks: Iterable[str], today: dt.date) -> QuerySet[Audience]:
    """Scored people who pass every rule the read model can check (topics through perks.topics)."""
    qs = Audience.objects.filter(score__gte=max(rules.entry_score, 1))
    if rules.countries:
        qs = qs.filter(country__in=[place.code for place in rules.countries])
    if rules.regions:
        qs = qs.filter(region__in=[normalise_region(region) for region in rules.regions])
    mask = 0
    for network in networks:
        mask |= network_bit(network)
    if mask:
        qs = qs.alias(linked=_bitand("network_bits", mask)).filter(~Q(linked=0))
    if rules.min_account_age_days:
        qs = qs.filter(joined__lte=today - dt.timedelta(days=rules.min_account_age_days))
    for rule in rules.topics:
        qs = qs.filter(user_id__in=topic_scores.people_with(rule.topic, rule.min_score))
    return qs


def _bitand(column: str, mask: int) -> object:
    return F(column).bitand(mask)


def preview(rules: Rules, *, networks: Iterable[str], today: dt.date) -> Preview:
    """How many scored people are eligible now, by tier and by country (one grouped query).

    Targeting by score, tiers and countries only is answered from the (country, score) cells;
    adding linked networks or an account age, from the join cells (on PostgreSQL); regions or
    topics count the audience rows themselves. Every path gives the same numbers (tested).
    """
    networks = list(networks)
    if rules.regions or rules.topics:
        path = "rows"
    elif rules.min_account_age_days or networks:
        path = "joins" if connection.vendor == "postgresql" else "rows"
    else:
        path = "cells"
    return _preview(rules, networks=networks, today=today, path=path)


def _preview(rules: Rules, *, networks: Iterable[str], today: dt.date, path: str) -> Preview:
    tiers = sorted(rules.tiers, key=lambda tier: tier.min_score)
    bands: list[tuple[int, int | None]] = [
        (tier.min_score, tiers[i + 1].min_score if i + 1 < len(tiers) else None)
        for i, tier in enumerate(tiers)
    ]
    rows: Iterable[dict[str, Any]]
    if path == "joins":
        rows = _join_cell_rows(rules, networks=list(networks), today=today, bands=bands)
    else:
        rows = _grouped_rows(rules, networks=networks, today=today, bands=bands, path=path)
    result = Preview(by_tier={tier.name: 0 for tier in tiers})
    by_country: dict[str, int] = defaultdict(int)
    for row in rows:
        result.total += row["n"]
        by_country[row["country"]] += row["n"]
        for index, tier in enumerate(tiers):
            result.by_tier[tier.name] += row[f"t{index}"]
    result.by_country = sorted(
        (
            (str(countries.name(code)) if code else "Not set", n)
            for code, n in by_country.items()
            if n
        ),
        key=lambda item: (-item[1], item[0]),
    )
    return result


def _grouped_rows(
    rules: Rules,
    *,
    networks: Iterable[str],
    today: dt.date,
    bands: list[tuple[int, int | None]],
    path: str,
) -> Iterable[dict[str, Any]]:
    qs: QuerySet[Any]
    if path == "cells":
        qs = AudienceCell.objects.filter(score__gte=max(rules.entry_score, 1))
        if rules.countries:
            qs = qs.filter(country__in=[place.code for place in rules.countries])
        count: Callable[..., Any] = lambda **kw: Coalesce(Sum("people", **kw), 0)  # noqa: E731
    else:
        qs = audience_for(rules, networks=networks, today=today)
        count = lambda **kw: Count("user_id", **kw)  # noqa: E731
    counts: dict[str, object] = {"n": count()}
    for index, (low, high) in enumerate(bands):
        band = Q(score__gte=low) if high is None else Q(score__gte=low, score__lt=high)
        counts[f"t{index}"] = count(filter=band)
    return cast("Iterable[dict[str, Any]]", qs.values("country").annotate(**counts).order_by())


def month_index(day: dt.date) -> int:
    """A month as a number: year * 12 + month - 1 (consecutive months differ by one)."""
    return day.year * 12 + day.month - 1


def _join_cell_rows(
    rules: Rules,
    *,
    networks: list[str],
    today: dt.date,
    bands: list[tuple[int, int | None]],
) -> list[dict[str, Any]]:
    """Per country: the join cells' people who joined before the month of the age cut, plus the
    audience rows who joined in that month up to the cut (PostgreSQL: jsonb by position)."""
    where = ["score >= %s"]
    params: list[Any] = [max(rules.entry_score, 1)]
    if rules.countries:
        where.append("country IN (" + ", ".join(["%s"] * len(rules.countries)) + ")")
        params += [place.code for place in rules.countries]
    mask = 0
    for network in networks:
        mask |= network_bit(network)
    if networks:
        where.append("(network_bits & %s) <> 0")
        params.append(mask)
    counted = ["n"] + [f"t{i}" for i in range(len(bands))]
    filters = ["TRUE"] + [
        f"score >= {int(low)}" + (f" AND score < {int(high)}" if high is not None else "")
        for low, high in bands
    ]
    cells, rows = AudienceJoinCell._meta.db_table, Audience._meta.db_table
    if rules.min_account_age_days:
        cut = today - dt.timedelta(days=rules.min_account_age_days)
        before = month_index(cut) - 1  # the last whole month before the cut's month
        people = (
            "CASE WHEN %s - first_month < 0 THEN 0"
            " WHEN %s - first_month >= jsonb_array_length(joined_by_month) THEN people"
            " ELSE (joined_by_month ->> (%s - first_month))::int END"
        )
        people_params = [before, before, before]
    else:
        people, people_params = "people", []
    sums = ", ".join(
        f"SUM(x) FILTER (WHERE {f}) AS {name}" for f, name in zip(filters, counted, strict=True)
    )
    sql = (
        f"SELECT country, {sums} FROM (SELECT country, score, {people} AS x FROM {cells}"
        f" WHERE {' AND '.join(where)}) AS c GROUP BY country"
    )
    all_params = people_params + params
    if rules.min_account_age_days:
        tallies = ", ".join(
            f"COUNT(*) FILTER (WHERE {f}) AS {name}"
            for f, name in zip(filters, counted, strict=True)
        )
        sql += (
            f" UNION ALL SELECT country, {tallies} FROM {rows}"
            f" WHERE joined >= %s AND joined <= %s AND {' AND '.join(where)} GROUP BY country"
        )
        all_params += [cut.replace(day=1), cut, *params]
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        return [
            {"country": row[0], **{name: int(row[i + 1] or 0) for i, name in enumerate(counted)}}
            for row in cursor.fetchall()
        ]


def _rounded(expression: str) -> str:
    """SQL for a positive float rounded half up, as `eligibility.shown` does, in either database."""
    if connection.vendor == "postgresql":
        return f"FLOOR({expression} + 0.5)::integer"
    return f"CAST({expression} + 0.5 AS INTEGER)"


def _day(expression: str) -> str:
    """SQL for the UTC day of a timestamp column, in either database."""
    if connection.vendor == "postgresql":
        return f"CAST(({expression} AT TIME ZONE 'UTC') AS DATE)"
    return f"DATE({expression})"


def rebuild_audience() -> int:
    """Refill the audience read model from the latest scores of visible, claimed people."""
    bits = " ".join(f"WHEN '{value}' THEN {bit}" for value, bit in NETWORK_BITS.items())
    audience = Audience._meta.db_table
    latest = LatestScore._meta.db_table
    users = User._meta.db_table
    accounts = NetworkAccount._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {audience}")
        cursor.execute(
            f"""
            INSERT INTO {audience} (user_id, score, country, region, network_bits, joined)
            SELECT ls.user_id, {_rounded("ls.score")}, u.country, LOWER(u.region),
                   COALESCE((SELECT SUM(DISTINCT CASE na.network {bits} ELSE 0 END)
                             FROM {accounts} na WHERE na.user_id = ls.user_id), 0),
                   {_day("u.date_joined")}
            FROM {latest} ls JOIN {users} u ON u.id = ls.user_id
            WHERE ls.user_id IS NOT NULL AND NOT ls.hidden AND NOT u.opted_out
            """
        )
        rows = cursor.rowcount
        _rebuild_cells(cursor)
        return rows


def _rebuild_cells(cursor: Any) -> None:
    cells = AudienceCell._meta.db_table
    cursor.execute(f"DELETE FROM {cells}")
    cursor.execute(
        f"INSERT INTO {cells} (country, score, people) "
        f"SELECT country, score, COUNT(*) FROM {Audience._meta.db_table} GROUP BY country, score"
    )
    rebuild_join_cells()


def rebuild_join_cells() -> int:
    """Refill the join cells from the audience rows (one grouped read: a row per cell and month
    people joined in)."""
    months: dict[tuple[str, int, int], dict[int, int]] = defaultdict(dict)
    grouped = (
        Audience.objects.annotate(month=TruncMonth("joined"))
        .values_list("country", "score", "network_bits", "month")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for country, score, bits, month, n in grouped.iterator(chunk_size=20_000):
        joined = month_index(month)
        per_month = months[(country, score, bits)]
        per_month[joined] = per_month.get(joined, 0) + n
    AudienceJoinCell.objects.all().delete()
    AudienceJoinCell.objects.bulk_create(
        (
            _join_cell(country, score, bits, per_month)
            for (country, score, bits), per_month in months.items()
        ),
        batch_size=2000,
    )
    return len(months)


def _join_cell(country: str, score: int, bits: int, per_month: dict[int, int]) -> AudienceJoinCell:
    first, last = min(per_month), max(per_month)
    running, by_month = 0, []
    for month in range(first, last + 1):
        running += per_month.get(month, 0)
        by_month.append(running)
    return AudienceJoinCell(
        country=country,
        score=score,
        network_bits=bits,
        people=running,
        first_month=first,
        joined_by_month=by_month,
    )


def _count_in_join_cell(row: Audience, change: int) -> None:
    """Add or take one person (joined in their month) from their join cell."""
    month = month_index(row.joined)
    cell = (
        AudienceJoinCell.objects.select_for_update()
        .filter(country=row.country, score=row.score, network_bits=row.network_bits)
        .first()
    )
    per_month: dict[int, int] = {}
    if cell is not None:
        previous = 0
        for i, running in enumerate(cell.joined_by_month):
            if running != previous:
                per_month[cell.first_month + i] = running - previous
            previous = running
    per_month[month] = per_month.get(month, 0) + change
    per_month = {m: n for m, n in per_month.items() if n}
    if not per_month:
        if cell is not None:
            cell.delete()
        return
    fresh = _join_cell(row.country, row.score, row.network_bits, per_month)
    if cell is None:
        fresh.save()
        return
    cell.people, cell.first_month, cell.joined_by_month = (
        fresh.people,
        fresh.first_month,
        fresh.joined_by_month,
    )
    cell.save(update_fields=["people", "first_month", "joined_by_month"])


def refresh_person(*, user_id: int) -> None:
    """Bring one person's audience row up to date (location change, new link, opt-out)."""
    user = User.objects.filter(pk=user_id).first()
    latest = (
        LatestScore.objects.filter(user_id=user_id, hidden=False)
        .values_list("score", flat=True)
        .first()
    )
    with transaction.atomic():
        before = Audience.objects.select_for_update().filter(user_id=user_id).first()
        if before is not None:
            _count_in_cell(before.country, before.score, -1)
            _count_in_join_cell(before, -1)
        if user is None or user.opted_out or latest is None:
            Audience.objects.filter(user_id=user_id).delete()
            return
        row = _refresh_row(user, latest)
        _count_in_cell(row.country, row.score, +1)
        _count_in_join_cell(row, +1)


def _count_in_cell(country: str, score: int, change: int) -> None:
    cell, _ = AudienceCell.objects.get_or_create(country=country, score=score)
    AudienceCell.objects.filter(pk=cell.pk).update(people=F("people") + change)


def _refresh_row(user: User, latest: float) -> Audience:
    user_id = user.pk
    bits = 0
    for network in set(
        NetworkAccount.objects.filter(user_id=user_id).values_list("network", flat=True)
    ):
        bits |= network_bit(network)
    row, _ = Audience.objects.update_or_create(
        user_id=user_id,
        defaults={
            "score": shown(latest),
            "country": str(user.country or ""),
            "region": normalise_region(user.region),
            "network_bits": bits,
            "joined": user.date_joined.date(),
        },
    )
    return row
