"""Benchmark: topic inference at scale, and the +K write path on PostgreSQL.

Two phases, each in its own process (its own peak RSS):
- `engine`: 1M people, 10M interactions, 2M tagged posts (synthetic, tags drawn from the real
  ontology's aliases plus 20% tags it does not know): coding each post's tag strings to
  integers as they stream in (one Python list per post at a time, as the window's rows arrive),
  tag -> topic matching with the Aho-Corasick automaton, topic breadth, then topic influence,
  propagation and calibration, i.e. what topics add to a scoring run (the influence matrix
  comes from the score itself and is built here from the interactions' pairs). Target: at most
  10 s added, peak below 1.5 GB. The peak is the process's resident high-water mark from the
  moment the inputs exist (Linux `clear_refs`), so it counts the inputs a scoring run already
  holds plus what topics add, not the generation of the synthetic inputs; `engine_added_rss_mb`
  is the part topics add.
- `plusk`: the +K write path as a web request calls it, `give_plus_k` (limits checked by the
  database, the receiver's notification queued on commit), from 8 threads, each with its own
  PostgreSQL connection, on database `klout_bench_topics` (created, migrated, emptied). Every
  giver gives 6 +K to the next person on 6 of their shown topics: 5 stand and the sixth is
  refused by the daily limit. A giver's 6 attempts sit 6 apart in the work list, so they run in
  different threads at nearly the same time: the per-giver limits are exercised under contention,
  not one give at a time. The figure is stored gives per wall-clock second (refusals take time
  but do not count); latency percentiles are per attempt. Target: 500 gives/s with the limits
  enforced; the run fails if any giver ends with more or fewer than 5.

`python bench/topics.py` runs both phases; `python bench/topics.py plusk` (or `engine`) runs only
the one named, and updates only its figures in var/bench/topics.json. Prints the figures.
Environment: BENCH_PG (server URL, no database), BENCH_TOPICS_DB (database for the +K phase),
BENCH_TOPICS_SCALE (1.0 = the sizes above), BENCH_GIVERS (default 400).
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_TOPICS_DB", "klout_bench_topics")
SCALE = float(os.environ.get("BENCH_TOPICS_SCALE", "1.0"))
GIVERS = int(os.environ.get("BENCH_GIVERS", "400"))
THREADS = 8
OUT = ROOT / "var" / "bench" / "topics.json"


def peak_rss_mb() -> float:
    """This process's peak resident memory."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def engine_phase() -> dict[str, float]:
    """Topic inference on synthetic data at the target size."""
    import numpy as np
    import scipy.sparse as sp

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klout.settings")
    import django

    django.setup()  # the ontology reader lives beside the models
    from scoring.engine.topics import Evidence, TagCodes, topic_breadth, topic_scores
    from scoring.ontology import matcher_from_files

    n = int(1_000_000 * SCALE)
    m = int(10_000_000 * SCALE)
    n_posts = int(2_000_000 * SCALE)
    rng = np.random.default_rng(7)
    matcher, _slugs = matcher_from_files(_ontology())
    vocabulary = sorted(matcher.aliases)[:: max(1, len(matcher.aliases) // 3000)]
    vocabulary += [f"unknown-tag-{i}" for i in range(len(vocabulary) // 4)]
    # a few popular tags, a long tail (Zipf-like), one to three tags a post
    weights = 1.0 / np.arange(1, len(vocabulary) + 1)
    weights /= weights.sum()
    n_tags = rng.integers(1, 4, n_posts)
    drawn = rng.choice(len(vocabulary), int(n_tags.sum()), p=weights)
    starts = np.r_[0, np.cumsum(n_tags)]
    author = (rng.pareto(1.2, n_posts) * 1000).astype(np.int64) % n
    post_time = rng.uniform(0, 90 * 86_400.0, n_posts)
    post = rng.integers(0, n_posts, m)
    actor = rng.integers(0, n, m, dtype=np.int32)  # the dtypes of the engine's Interactions
    receiver = author[post].astype(np.int32)
    pairs = np.unique(actor.astype(np.int64) * n + receiver)
    influence = sp.csr_array(
        (rng.uniform(0.1, 1.0, pairs.shape[0]), (pairs // n, pairs % n)), shape=(n, n)
    )
    del pairs, n_tags, weights

    def post_tags() -> Iterator[list[str]]:
        # one post's tags at a time, as the window's rows stream from the database
        for i in range(n_posts):
            yield [vocabulary[t] for t in drawn[starts[i] : starts[i + 1]].tolist()]

    gc.collect()
    inputs_mb = _rss_mb()
    generation_peak = peak_rss_mb()  # the reset below clears this high-water mark too
    _reset_peak()  # from here on, the peak is the inputs plus what topics add
    print(
        f"engine: {n:,} people, {m:,} interactions, {n_posts:,} tagged posts "
        f"(inputs {inputs_mb:.0f} MB)",
        flush=True,
    )

    t0 = time.perf_counter()
    codes = TagCodes.build()
    for tags in post_tags():
        codes.add_post(tags)
    coded = codes.freeze()
    t_code = time.perf_counter() - t0
    t0 = time.perf_counter()
    post_topics = matcher.match_codes(coded)
    t_match = time.perf_counter() - t0
    del coded
    t0 = time.perf_counter()
    topic_breadth(author, post_topics, matcher.ontology, n_posts)
    t_breadth = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = topic_scores(
        n_people=n,
        actor=actor,
        receiver=receiver,
        post=post,
        influence=influence,
        evidence=Evidence(author=author, time=post_time),
        post_topics=post_topics,
        ontology=matcher.ontology,
        as_of=90 * 86_400.0,
    )
    t_scores = time.perf_counter() - t0
    total = t_code + t_match + t_breadth + t_scores
    peak = _peak_mb()
    print(
        f"engine: code tags {t_code:.1f} s, match {t_match:.1f} s, breadth {t_breadth:.1f} s, "
        f"scores {t_scores:.1f} s, total {total:.1f} s, {len(result):,} topic rows, "
        f"peak {peak:.0f} MB ({peak - inputs_mb:.0f} MB over the inputs)",
        flush=True,
    )
    return {
        "engine_people": float(n),
        "engine_interactions": float(m),
        "engine_tagged_posts": float(n_posts),
        "engine_code_tags_s": round(t_code, 2),
        "engine_match_s": round(t_match, 2),
        "engine_breadth_s": round(t_breadth, 2),
        "engine_scores_s": round(t_scores, 2),
        "engine_added_s": round(total, 2),
        "engine_topic_rows": float(len(result)),
        "engine_inputs_rss_mb": round(inputs_mb, 1),
        "engine_peak_rss_mb": round(peak, 1),
        "engine_added_rss_mb": round(peak - inputs_mb, 1),
        # the whole process's peak, generating the synthetic inputs included
        "engine_process_peak_rss_mb": round(max(generation_peak, peak_rss_mb()), 1),
    }


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return peak_rss_mb()


def _rss_mb() -> float:
    """This process's resident memory now (Linux; else its peak)."""
    return _status_mb("VmRSS")


def _peak_mb() -> float:
    """This process's peak resident memory since the last `_reset_peak` (Linux)."""
    return _status_mb("VmHWM")


def _reset_peak() -> None:
    """Start the peak afresh (Linux: writing 5 to clear_refs resets VmHWM)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def _ontology() -> Path:
    data = Path(os.environ.get("KLOUT_SHARED_DATA", str(ROOT.parent / "shared" / "data")))
    return data / "klout-topic-ontology"


def plusk_phase() -> dict[str, float]:
    """+K gives per second on PostgreSQL, limits enforced, from several threads."""
    import threading

    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klout.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from accounts.models import User
    from networks.models import NetworkAccount
    from scoring.kloutids import klout_ids_of
    from scoring.models import AlgorithmVersion, PlusK, ScoringRun, Topic, TopicScore
    from scoring.plusk import PlusKError, give_plus_k

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE scoring_plusk, scoring_topicscore, scoring_kloutid, scoring_scoringrun, "
            "scoring_topic, networks_networkaccount, accounts_user CASCADE"
        )
    joined = timezone.now() - dt.timedelta(days=10)
    users = User.objects.bulk_create(
        User(email=f"giver{i}@bench.local", date_joined=joined) for i in range(GIVERS)
    )
    NetworkAccount.objects.bulk_create(
        NetworkAccount(network="dev", external_id=f"bench{u.pk}", user=u) for u in users
    )
    topics = Topic.objects.bulk_create(
        Topic(id=str(900 + i), slug=f"bench-topic-{i}", display_name=f"Bench {i}") for i in range(6)
    )
    version, _ = AlgorithmVersion.objects.get_or_create(name="bench", defaults={"is_current": True})
    AlgorithmVersion.objects.filter(pk=version.pk).update(is_current=True)
    run = ScoringRun.objects.create(day=dt.date.today(), version=version, status="published")
    TopicScore.objects.bulk_create(
        TopicScore(run=run, day=run.day, user=u, topic=t, score=50, raw=1, rank=1)
        for u in users
        for t in topics
    )
    ids, _ = klout_ids_of(user_ids=[u.pk for u in users])
    # each giver gives to the next person, on 6 topics: 5 stand, the 6th is refused
    work = [
        (users[i].pk, ids[users[(i + 1) % GIVERS].pk], t.pk) for i in range(GIVERS) for t in topics
    ]
    chunks = [work[k::THREADS] for k in range(THREADS)]
    given = [0] * THREADS
    refused = [0] * THREADS
    latencies: list[list[float]] = [[] for _ in range(THREADS)]

    def run_chunk(k: int) -> None:
        clock = time.perf_counter
        for giver, kid, topic in chunks[k]:
            start = clock()
            try:
                give_plus_k(giver_id=giver, klout_id=kid, topic_id=topic)
                given[k] += 1
            except PlusKError:
                refused[k] += 1
            latencies[k].append(clock() - start)
        connection.close()

    threads = [threading.Thread(target=run_chunk, args=(k,)) for k in range(THREADS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    attempts = len(work)
    stored = PlusK.objects.count()
    assert stored == 5 * GIVERS, f"limits broken: {stored} stored for {GIVERS} givers"
    per_giver = set(
        PlusK.objects.values("giver").annotate(n=Count("pk")).values_list("n", flat=True)
    )
    assert per_giver == {5}, f"limits broken: givers stored {sorted(per_giver)}"
    ms = sorted(x * 1000 for chunk in latencies for x in chunk)
    p50, p99 = ms[len(ms) // 2], ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(
        f"plusk: {attempts:,} attempts ({sum(given):,} given, {sum(refused):,} refused by the "
        f"daily limit) in {elapsed:.1f} s: {attempts / elapsed:.0f} attempts/s, "
        f"{sum(given) / elapsed:.0f} gives/s; per attempt p50 {p50:.1f} ms, p99 {p99:.1f} ms",
        flush=True,
    )
    return {
        "plusk_attempts": float(attempts),
        "plusk_gives_per_s": round(sum(given) / elapsed, 1),
        "plusk_attempts_per_s": round(attempts / elapsed, 1),
        "plusk_p50_ms": round(p50, 2),
        "plusk_p99_ms": round(p99, 2),
        "plusk_stored_equals_limit": 1.0,
        "plusk_threads": float(THREADS),
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--phase":
        figures = engine_phase() if sys.argv[2] == "engine" else plusk_phase()
        print("FIGURES " + json.dumps(figures), flush=True)
        return
    phases = sys.argv[1:] or ["engine", "plusk"]
    if not set(phases) <= {"engine", "plusk"}:
        raise SystemExit("usage: bench/topics.py [engine] [plusk]")
    results: dict[str, float] = {}
    if OUT.exists() and set(phases) != {"engine", "plusk"}:
        # one phase only: keep the other phase's figures from its last run
        results = {
            k: v for k, v in json.loads(OUT.read_text()).items() if k.split("_")[0] not in phases
        }
    for phase in phases:
        proc = subprocess.run(
            [sys.executable, __file__, "--phase", phase],
            capture_output=True,
            text=True,
            check=False,
        )
        sys.stderr.write(proc.stderr[-3000:])
        for line in proc.stdout.splitlines():
            if line.startswith("FIGURES "):
                results.update(json.loads(line[len("FIGURES ") :]))
            else:
                print(line)
        if proc.returncode:
            raise SystemExit(f"phase {phase} failed")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
