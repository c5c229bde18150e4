"""Benchmark: perk claims per second with no oversell, and the targeting preview at 1M people.

PostgreSQL database `klout_bench_perks` (created and migrated if missing).
- Preview: 1,000,000 scored people in the `perks_audience` read model (made once by SQL and
  kept between runs), with a skewed score and country mix; BENCH_PREVIEWS previews (default 200)
  with random minimum scores, tiers and country sets, each timed end to end (`audience.preview`,
  what the dashboard's HTMX fragment runs): `preview_*` target score, tiers and countries (the
  cells answer), `preview_age_or_network_*` also a minimum account age or a linked network
  (the join cells answer, plus the audience rows of the month the age cut falls in). p50 and
  p99 in ms.
- Claims: a code campaign with stock BENCH_STOCK (default 2,000) and more codes than stock;
  BENCH_CLAIMERS (default 2,500) scored people claim at once from BENCH_WORKERS processes (default
  4), each through `claim_perk`. claims/s = stored claims / wall time; oversell = stored claims -
  stock (must be 0); codes given twice (must be 0); refusals that were not "out of stock".
  Then the same with twice the workers (`claims_per_s_8_workers` and its oversell and codes).
- Telling new qualifiers: an open campaign whose minimum score admits about BENCH_TELL (default
  100,000) of the 1M people, none told yet, 1% of them asking for perk e-mails (the in-memory
  mail backend); `perks.services.tell_new_qualifiers` (what every published day runs) in a fresh
  process: `tell_s`, `tell_rows_per_s`, `tell_peak_rss_mb` (that process's), the rows told, the
  e-mails sent, and a second run with nobody new (`tell_again_s`).
  `python bench/perks.py tell` runs this phase alone and updates its figures in perks.json.

Writes var/bench/perks.json (flat, units in the names).
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import create_database  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "klout_bench_perks"
PEOPLE = int(os.environ.get("BENCH_PEOPLE", "1000000"))
PREVIEWS = int(os.environ.get("BENCH_PREVIEWS", "200"))
STOCK = int(os.environ.get("BENCH_STOCK", "2000"))
CLAIMERS = int(os.environ.get("BENCH_CLAIMERS", "2500"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
TELL = int(os.environ.get("BENCH_TELL", "100000"))
OUT = ROOT / "var" / "bench" / "perks.json"
COUNTRIES = ["US", "GB", "CA", "DE", "FR", "BR", "IN", "JP", "MX", "ES", "IT", "AU", "NL", ""]


def setup_django(*, migrate: bool = False) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klout.settings")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def fill_audience() -> None:
    """1M people and their audience rows, by SQL (kept between runs)."""
    from django.db import connection

    from perks.audience import rebuild_join_cells
    from perks.models import Audience, AudienceJoinCell

    if Audience.objects.count() >= PEOPLE:
        if not AudienceJoinCell.objects.exists():
            rebuild_join_cells()  # rows kept from a run before the join cells existed
        return
    print(f"filling {PEOPLE:,} audience rows (once)", file=sys.stderr)
    codes = "ARRAY[" + ",".join(f"'{c}'" for c in COUNTRIES) + "]"
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM perks_audience")
        cursor.execute("DELETE FROM accounts_user WHERE email LIKE 'bench-%%'")
        cursor.execute(
            """
            INSERT INTO accounts_user (password, is_superuser, first_name, last_name, is_staff,
                is_active, date_joined, email, display_name, opted_out, country, region)
            SELECT '', false, '', '', false, true, now() - (g %% 2000) * interval '1 day',
                   'bench-' || g || '@example.com', '', false, '', ''
            FROM generate_series(1, %s) g
            """,
            [PEOPLE],
        )
        # Scores skewed low like the real distribution (most people near 20, few above 70);
        # countries skewed towards the first in the list.
        cursor.execute(
            f"""
            INSERT INTO perks_audience (user_id, score, country, region, network_bits, joined)
            SELECT u.id,
                   LEAST(100, GREATEST(1, (20 + 15 * sqrt(-2 * ln(random())) *
                                            cos(2 * pi() * random()))::int)),
                   ({codes})[1 + floor(power(random(), 2) * {len(COUNTRIES)})::int],
                   '', (1 << floor(random() * 5)::int), u.date_joined::date
            FROM accounts_user u WHERE u.email LIKE 'bench-%%'
            """
        )
        from perks.audience import _rebuild_cells

        _rebuild_cells(cursor)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE perks_audience")
        cursor.execute("VACUUM ANALYZE perks_audiencecell")


def bench_preview() -> dict[str, float]:
    """Previews by score, tiers and countries (answered from cells), and previews that also ask
    for an account age or a linked network (answered by counting audience rows)."""
    import datetime as dt

    from perks.audience import preview
    from perks.eligibility import Place, Rules, Tier

    rng = random.Random(7)
    today = dt.date.today()
    figures: dict[str, float] = {"preview_people": PEOPLE}
    for kind in ("cells", "rows"):
        timings = []
        for i in range(PREVIEWS):
            countries = tuple(
                Place(c, c) for c in rng.sample(COUNTRIES[:-1], k=rng.choice([0, 0, 1, 2, 3]))
            )
            low = rng.randint(0, 60)
            tiers = (Tier("Bronze", low, "a"), Tier("Silver", low + 15, "b"), Tier("Gold", 81, "c"))
            rules = Rules(
                min_score=rng.randint(0, 50),
                countries=countries,
                tiers=tiers if i % 2 == 0 else (),
                min_account_age_days=rng.choice([30, 365]) if kind == "rows" else 0,
            )
            networks = ["github"] if kind == "rows" and i % 3 == 0 else []
            started = time.perf_counter()
            result = preview(rules, networks=networks, today=today)
            timings.append((time.perf_counter() - started) * 1000)
            assert result.total >= 0
        timings.sort()
        p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
        prefix = "preview" if kind == "cells" else "preview_age_or_network"
        figures[f"{prefix}_p50_ms"] = round(statistics.median(timings), 1)
        figures[f"{prefix}_p99_ms"] = round(p99, 1)
    return figures


def prepare_claims() -> tuple[int, list[int]]:
    """A fresh code campaign and CLAIMERS scored people; returns (campaign id, user ids)."""
    import datetime as dt

    from django.utils import timezone

    from accounts.models import User
    from perks.models import Brand, Campaign, CampaignKind, CampaignStatus, PerkCode
    from perks.stock import set_remaining
    from scoring.models import AlgorithmVersion, DailyScore, LatestScore, RunStatus, ScoringRun

    Brand.objects.filter(slug="bench").delete()
    User.objects.filter(email__startswith="claimer-").delete()
    brand = Brand.objects.create(name="Bench", slug="bench", approved_at=timezone.now())
    campaign = Campaign.objects.create(
        brand=brand,
        title="Bench perk",
        description="-",
        disclosure="-",
        kind=CampaignKind.CODE,
        status=CampaignStatus.ACTIVE,
        stock_total=STOCK,
        min_score=10,
        activated_at=timezone.now(),
        announced_at=timezone.now(),
    )
    set_remaining(campaign_id=campaign.pk, left=STOCK)
    PerkCode.objects.bulk_create(
        (PerkCode(campaign=campaign, code=f"B{i:07d}") for i in range(STOCK + STOCK // 4)),
        batch_size=5000,
    )
    version, _ = AlgorithmVersion.objects.get_or_create(
        name="bench", defaults={"is_current": False}
    )
    run, _ = ScoringRun.objects.get_or_create(
        day=dt.date(2026, 1, 1), version=version, defaults={"status": RunStatus.PUBLISHED}
    )
    users = User.objects.bulk_create(
        (User(email=f"claimer-{i}@example.com") for i in range(CLAIMERS)), batch_size=5000
    )
    dailies = DailyScore.objects.bulk_create(
        (
            DailyScore(run=run, version=version, day=run.day, user=u, score=50.0, raw=1.0)
            for u in users
        ),
        batch_size=5000,
    )
    LatestScore.objects.bulk_create(
        (
            LatestScore(version=version, user=u, daily=d, day=run.day, score=50.0)
            for u, d in zip(users, dailies, strict=True)
        ),
        batch_size=5000,
    )
    return campaign.pk, [u.pk for u in users]


def _worker_init() -> None:
    setup_django()


def _claim_many(args: tuple[int, list[int]]) -> dict[str, int]:
    from perks.services import OUT_OF_STOCK, ClaimRefused, claim_perk

    campaign_id, user_ids = args
    counts = {"claimed": 0, "out_of_stock": 0, "other": 0}
    for user_id in user_ids:
        try:
            claim_perk(
                campaign_id=campaign_id,
                user_id=user_id,
                idempotency_key=f"bench-{campaign_id}-{user_id}",
                disclosure_accepted=True,
            )
            counts["claimed"] += 1
        except ClaimRefused as exc:
            counts["out_of_stock" if exc.reason == OUT_OF_STOCK else "other"] += 1
    return counts


def bench_claims(workers: int = WORKERS) -> dict[str, float]:
    from django.db import connections

    from perks.models import Campaign, Claim

    campaign_id, users = prepare_claims()
    random.Random(3).shuffle(users)
    for conn in connections.all():
        conn.close()
    chunks = [(campaign_id, users[i::workers]) for i in range(workers)]
    with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init) as pool:
        list(pool.map(_claim_many, [(campaign_id, []) for _ in range(workers)]))  # warm up
        started = time.perf_counter()
        results = list(pool.map(_claim_many, chunks))
        elapsed = time.perf_counter() - started
    stored = Claim.objects.filter(campaign_id=campaign_id).count()
    codes = list(Claim.objects.filter(campaign_id=campaign_id).values_list("code_id", flat=True))
    campaign = Campaign.objects.get(pk=campaign_id)
    return {
        "claims_stock": STOCK,
        "claims_attempted": len(users),
        "claims_stored": stored,
        "claims_per_s": round(stored / elapsed, 1),
        "attempts_per_s": round(len(users) / elapsed, 1),
        "claims_oversold": stored - STOCK,
        "claims_codes_given_twice": len(codes) - len(set(codes)),
        "claims_stock_left": campaign.stock_left,
        "claims_refused_out_of_stock": sum(r["out_of_stock"] for r in results),
        "claims_refused_other": sum(r["other"] for r in results),
        "claims_workers": workers,
    }


def prepare_tell() -> tuple[int, int]:
    """An open, announced campaign admitting about TELL people, none of them told yet, 1% of
    them asking for perk e-mails; returns (minimum score, people it admits)."""
    from django.db import connection
    from django.utils import timezone

    from perks.models import Brand, Campaign, CampaignKind, CampaignStatus

    Campaign.objects.filter(status=CampaignStatus.ACTIVE).update(status=CampaignStatus.ENDED)
    Brand.objects.filter(slug="bench-tell").delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_notification WHERE kind = 'perk_opened'")
        # The lowest minimum score that admits at most TELL people.
        cursor.execute(
            "SELECT score, SUM(n) OVER (ORDER BY score DESC) FROM (SELECT score, COUNT(*) AS n"
            " FROM perks_audience GROUP BY score) s ORDER BY score DESC"
        )
        min_score, admitted = 100, 0
        for score, running in cursor.fetchall():
            if running > TELL:
                break
            min_score, admitted = score, int(running)
        cursor.execute("DELETE FROM accounts_notificationpreference")
        cursor.execute(
            "INSERT INTO accounts_notificationpreference (user_id, score_move_threshold, in_app,"
            " weekly_digest, perk_email, muted_kinds, unsubscribe_token)"
            " SELECT user_id, 3, true, true, true, '[]'::jsonb, md5(user_id::text)"
            " FROM perks_audience WHERE score >= %s AND user_id %% 100 = 0",
            [min_score],
        )
    brand = Brand.objects.create(name="Bench", slug="bench-tell", approved_at=timezone.now())
    Campaign.objects.create(
        brand=brand,
        title="Bench tell",
        description="-",
        disclosure="-",
        kind=CampaignKind.CODE,
        status=CampaignStatus.ACTIVE,
        stock_total=1,
        min_score=min_score,
        activated_at=timezone.now(),
        announced_at=timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE accounts_notification")
        cursor.execute("VACUUM ANALYZE accounts_notificationpreference")
    return min_score, admitted


def _tell_in_fresh_process(_: int) -> dict[str, float]:
    from django.core import mail

    from perks.services import tell_new_qualifiers

    mail.outbox = []
    started = time.perf_counter()
    told = tell_new_qualifiers()
    elapsed = time.perf_counter() - started
    mailed = len(mail.outbox)
    again_started = time.perf_counter()
    again = tell_new_qualifiers()
    again_elapsed = time.perf_counter() - again_started
    return {
        "tell_rows": told,
        "tell_s": round(elapsed, 2),
        "tell_rows_per_s": round(told / elapsed, 0),
        "tell_emails": mailed,
        "tell_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "tell_again_rows": again,
        "tell_again_s": round(again_elapsed, 2),
    }


def bench_tell() -> dict[str, float]:
    from django.db import connections

    min_score, admitted = prepare_tell()
    for conn in connections.all():
        conn.close()
    with ProcessPoolExecutor(max_workers=1, initializer=_worker_init) as pool:
        figures = pool.submit(_tell_in_fresh_process, 0).result()
    return {"tell_people_admitted": admitted, "tell_min_score": min_score, **figures}


def main() -> None:
    create_database(PG, DB_NAME)
    setup_django(migrate=True)
    fill_audience()
    if sys.argv[1:] == ["tell"]:
        figures = json.loads(OUT.read_text()) if OUT.exists() else {}
        figures |= bench_tell()
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(figures, indent=2) + "\n")
        for name, value in figures.items():
            if name.startswith("tell_"):
                print(f"{name:32} {value}")
        return
    figures = bench_preview()
    print(json.dumps(figures))
    figures |= bench_claims()
    # The same at twice the concurrency (a web server runs many requests at once): commits are
    # disk flushes, and concurrent commits share them.
    more = bench_claims(2 * WORKERS)
    for name in ("claims_per_s", "claims_oversold", "claims_codes_given_twice"):
        figures[f"{name}_{2 * WORKERS}_workers"] = more[name]
    figures |= bench_tell()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n")
    for name, value in figures.items():
        print(f"{name:32} {value}")


if __name__ == "__main__":
    main()
