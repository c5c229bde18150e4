"""The "how to improve" card: what draws action for one person, from their own data.

Which of their networks and post kinds draw reactions, who acts most, and when their audience
acts: reactions by hour of day and weekday in the person's own time zone (their setting, else
their browser's, else UTC: `accounts.time_zones.zone_for`), the shape of Klout's "when to post"
data (author, reactor, post, time), set beside the hours at which reactions arrive in Klout's own
published sample of that data, each reaction at its author's local hour (the sample's time-zone
column). Four grouped queries on the person's received interactions over the scoring window,
cached for the day and zone; every line carries the numbers behind it.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone

from achievements.advice import KIND_WORDS
from networks.models import Interaction, NetworkAccount
from scoring.collect import WINDOW_DAYS
from scoring.queries import network_label

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CACHE_TTL = 60 * 60
SAMPLE_FOLDER = "klout-when-to-post-sample"
# The sample's time zones (Freebase names of standard times) as IANA zones, so each reaction
# counts at its author's local hour with that day's daylight saving. Rows naming none (`\N`) or
# a zone missing here are left out of the hours.
SAMPLE_ZONES = {
    "UTC": "UTC",
    "Greenwich Mean Time": "Europe/London",
    "Western European Time": "Europe/Lisbon",
    "Central European Time": "Europe/Paris",
    "Eastern European Time": "Europe/Athens",
    "India Standard Time": "Asia/Kolkata",
    "Bangladesh Standard Time": "Asia/Dhaka",
    "Thailand Standard Time": "Asia/Bangkok",
    "Indonesia Western Time": "Asia/Jakarta",
    "Singapore Time": "Asia/Singapore",
    "Korea Standard Time": "Asia/Seoul",
    "Japan Standard Time": "Asia/Tokyo",
    "Australian Eastern Standard Time": "Australia/Sydney",
    "Norfolk Time": "Pacific/Norfolk",
    "Samoa Standard Time": "Pacific/Pago_Pago",
    "Hawaii-Aleutian Standard Time": "Pacific/Honolulu",
    "Pacific Standard Time": "America/Los_Angeles",
    "Mountain Standard Time": "America/Denver",
    "Central Standard Time": "America/Chicago",
    "Eastern Standard Time": "America/New_York",
    "Atlantic Standard Time": "America/Halifax",
    "Venezuela Time": "America/Caracas",
    "Paraguay Time": "America/Asuncion",
    "Argentina Standard Time": "America/Argentina/Buenos_Aires",
    "Brasília Standard Time": "America/Sao_Paulo",
    "Fernando de Noronha Time": "America/Noronha",
}


@dataclass(frozen=True)
class Line:
    """One finding and the figures behind it."""

    text: str
    count: int
    total: int

    @property
    def percent(self) -> int:
        """The finding's share of the total, in percent."""
        return round(100 * self.count / self.total) if self.total else 0


@dataclass(frozen=True)
class Improvement:
    """Everything the card shows."""

    total: int
    since: dt.date
    networks: list[Line]
    post_kinds: list[Line]
    people: list[Line]
    grid: list[list[int]]  # [weekday 0=Mon][hour 0..23] reactions
    best_slot: Line | None
    best_hours: list[Line]
    zone: str  # the IANA zone the grid, the best slot and the best hours are in
    # Klout's "when to post" sample at the person's best hours, and its own busiest hour.
    sample_hours: list[Line]
    sample_best: Line | None

    @property
    def hours_compared(self) -> list[tuple[Line, Line | None]]:
        """Each of the person's best hours with the sample's share at that hour (if installed)."""
        sample: list[Line | None] = list(self.sample_hours) or [None] * len(self.best_hours)
        return list(zip(self.best_hours, sample, strict=True))

    @property
    def grid_max(self) -> int:
        """The busiest cell (for shading)."""
        return max((max(row) for row in self.grid), default=0)

    @property
    def shaded(self) -> list[tuple[str, list[tuple[int, int, int]]]]:
        """Rows for the template: weekday, then (hour, reactions, shade 0-4) per hour."""
        top = self.grid_max or 1
        return [
            (
                WEEKDAYS[d],
                [
                    (h, n, 0 if n == 0 else 1 + min(3, (4 * n - 1) // top))
                    for h, n in enumerate(row)
                ],
            )
            for d, row in enumerate(self.grid)
        ]


def _shade(n: int, top: int) -> int:
    """0 for no reactions, else 1-4 by quarter of the busiest cell."""
    return 0 if n == 0 else 1 + min(3, (4 * n - 1) // top)


def improvement_for(
    user_id: int, *, zone: str = "UTC", today: dt.date | None = None
) -> Improvement | None:
    """The person's card with its hours in `zone` (an IANA name), or None when nobody has
    reacted to them in the window."""
    today = today or timezone.now().date()
    key = f"achievements:improve:{user_id}:{today.isoformat()}:{zone}"
    cached = cache.get(key)
    if cached is not None:
        return cached if isinstance(cached, Improvement) else None
    found = _build(user_id, today, zone)
    cache.set(key, found if found is not None else "none", CACHE_TTL)
    return found


def _build(user_id: int, today: dt.date, zone: str) -> Improvement | None:
    mine = list(
        NetworkAccount.objects.visible().filter(user_id=user_id).values_list("pk", flat=True)
    )
    if not mine:
        return None
    since = today - dt.timedelta(days=WINDOW_DAYS)
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    received = Interaction.objects.filter(receiver_id__in=mine, occurred_at__gte=start).exclude(
        actor_id__in=mine
    )
    by_network = list(
        received.order_by().values("network").annotate(n=Count("id")).order_by("-n", "network")
    )
    total = sum(row["n"] for row in by_network)
    if not total:
        return None
    networks = [
        Line(f"{network_label(row['network'])}: {row['n']:,} reactions", row["n"], total)
        for row in by_network
    ]
    on_posts = list(
        received.filter(post__isnull=False)
        .order_by()
        .values("post__kind")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    post_total = sum(row["n"] for row in on_posts)
    post_kinds = [
        Line(
            f"{KIND_WORDS.get(row['post__kind'], row['post__kind']).capitalize()}: "
            f"{row['n']:,} reactions",
            row["n"],
            post_total,
        )
        for row in on_posts
    ]
    top_actors = list(
        received.order_by()
        .values("actor_id")
        .annotate(n=Count("id"))
        .order_by("-n", "actor_id")[:3]
    )
    handles = {
        pk: handle or external_id
        for pk, handle, external_id in NetworkAccount.objects.filter(
            pk__in=[row["actor_id"] for row in top_actors]
        ).values_list("pk", "handle", "external_id")
    }
    people = [
        Line(f"@{handles.get(row['actor_id'], '?')}: {row['n']:,} reactions", row["n"], total)
        for row in top_actors
    ]
    grid = [[0] * 24 for _ in range(7)]
    local = zoneinfo.ZoneInfo(zone)
    for row in (
        received.order_by()
        .annotate(
            day=ExtractIsoWeekDay("occurred_at", tzinfo=local),
            hour=ExtractHour("occurred_at", tzinfo=local),
        )
        .values("day", "hour")
        .annotate(n=Count("id"))
    ):
        grid[int(row["day"]) - 1][int(row["hour"])] += row["n"]
    best_slot = None
    cells = [(n, d, h) for d, row in enumerate(grid) for h, n in enumerate(row) if n]
    if cells:
        n, d, h = max(cells, key=lambda c: (c[0], -c[1], -c[2]))
        best_slot = Line(f"{WEEKDAYS[d]}s {_hour_text(h, zone)}", n, total)
    hours = [sum(grid[d][h] for d in range(7)) for h in range(24)]
    best_hours = [
        Line(_hour_text(h, zone), hours[h], total)
        for h in sorted(range(24), key=lambda h: (-hours[h], h))[:3]
        if hours[h]
    ]
    sample = klout_sample_hours()
    sample_hours: list[Line] = []
    sample_best = None
    if sample is not None:
        everyone = sum(sample)
        sample_hours = [
            Line(line.text, sample[int(line.text[:2])], everyone) for line in best_hours
        ]
        top = max(range(24), key=lambda h: (sample[h], -h))
        sample_best = Line(_hour_text(top, "local time"), sample[top], everyone)
    return Improvement(
        total=total,
        since=since,
        networks=networks,
        post_kinds=post_kinds,
        people=people,
        grid=grid,
        best_slot=best_slot,
        best_hours=best_hours,
        zone=zone,
        sample_hours=sample_hours,
        sample_best=sample_best,
    )


def _hour_text(h: int, zone: str) -> str:
    return f"{h:02d}:00-{(h + 1) % 24:02d}:00 {zone}"


@functools.cache
def klout_sample_hours() -> tuple[int, ...] | None:
    """Reactions per hour of day in Klout's "when to post" sample, each at its author's local
    hour (its _fb and _tw files: the fifth column is the reaction's time in ms, the sixth the
    author's time zone), or None where the sample is not installed."""
    folder = Path(settings.SHARED_DATA_DIR) / SAMPLE_FOLDER
    counts = [0] * 24
    zones = {name: zoneinfo.ZoneInfo(iana) for name, iana in SAMPLE_ZONES.items()}
    for path in sorted(folder.glob("user_timestamp_*_??.tsv")):
        with path.open(encoding="utf-8") as stream:
            for line in stream:
                fields = line.rstrip("\n").split("\t")
                if line.startswith("#") or len(fields) < 6 or not fields[4].isdigit():
                    continue
                zone = zones.get(fields[5])
                if zone is None:
                    continue
                moment = dt.datetime.fromtimestamp(int(fields[4]) / 1000, tz=zone)
                counts[moment.hour] += 1
    return tuple(counts) if sum(counts) else None
