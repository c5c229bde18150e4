"""Benchmark the scoring engine end to end on a seeded power-law interaction graph.

Default: 1M people / 10M interactions (targets 5 s, 1 GB). ``--large`` adds 10M people / 100M
interactions (targets 90 s, 8 GB), run in its own process so each peak RSS is that run's own.
Prints wall time and peak RSS per run, compares the engine's PageRank with networkx on a
100k-edge subgraph in the same run, and writes flat JSON (metric -> number, units in the names)
to ``var/bench/score.json``. Without ``--large`` the large figures of an earlier ``--large`` run
are kept in the JSON (and said so), so the file always holds both runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scoring.engine import Interactions, score_window  # noqa: E402
from scoring.engine.graph import edge_matrix, pagerank  # noqa: E402

DAY = 86400.0
NOW = 1_700_000_000.0
SIZES = {"default": (1_000_000, 10_000_000), "large": (10_000_000, 100_000_000)}
TARGETS = {"default": (5.0, 1024.0), "large": (90.0, 8192.0)}  # seconds, MB
# rows generated per step: the generator's float64/int64 temporaries stay chunk-sized
GEN_CHUNK = 1 << 22


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_graph(n_people: int, n_edges: int, seed: int = 7) -> Interactions:
    """Power-law receivers (Zipf-like), power-law actor activity, times over 90 days.

    Generated in chunks straight into compact arrays (int32 people, int8 kinds and networks); each
    column has its own seeded stream, so the graph does not depend on the chunk size. The graph
    has no post ids: ``post`` is a read-only broadcast of -1 rather than a full int64 column.
    """
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    receiver_rng, actor_rng, kind_rng, time_rng, network_rng = streams
    perm = np.random.default_rng(seed).permutation(n_people).astype(np.int32)
    actor = np.empty(n_edges, dtype=np.int32)
    receiver = np.empty(n_edges, dtype=np.int32)
    kind = np.empty(n_edges, dtype=np.int8)
    when = np.empty(n_edges, dtype=np.float64)
    network = np.empty(n_edges, dtype=np.int8)
    for s in range(0, n_edges, GEN_CHUNK):
        k = min(GEN_CHUNK, n_edges - s)
        part = slice(s, s + k)
        # receivers: heavy tail (few people receive most); actors: milder tail
        receiver[part] = perm[(receiver_rng.pareto(1.1, k) * 50).astype(np.int64) % n_people]
        actor[part] = perm[(actor_rng.pareto(2.0, k) * n_people / 4).astype(np.int64) % n_people]
        kind[part] = kind_rng.integers(0, 4, k, dtype=np.int8)
        time_rng.random(k, out=when[part])
        when[part] *= -90 * DAY
        when[part] += NOW
        network[part] = network_rng.integers(0, 3, k, dtype=np.int8)
    return Interactions(
        actor=actor,
        receiver=receiver,
        kind=kind,
        time=when,
        post=np.broadcast_to(np.int64(-1), (n_edges,)),
        network=network,
        n_people=n_people,
    )


def compare_pagerank(inter: Interactions) -> dict[str, float]:
    """Engine vs networkx PageRank on the graph's first 100k edges."""
    out: dict[str, float] = {}
    sub = slice(0, 100_000)
    a, r = inter.actor[sub], inter.receiver[sub]
    nodes, inv = np.unique(np.concatenate([a, r]), return_inverse=True)
    la, lr = inv[: a.shape[0]], inv[a.shape[0] :]
    t0 = time.perf_counter()
    ours = pagerank(edge_matrix(la, lr, None, nodes.shape[0]), damping=0.85, tol=1e-6)
    out["pagerank_100k_s"] = round(time.perf_counter() - t0, 4)
    print(f"      engine PageRank on 100k edges: {out['pagerank_100k_s']:.3f}s", flush=True)

    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(range(nodes.shape[0]))
    for x, y in zip(la.tolist(), lr.tolist(), strict=True):
        if g.has_edge(x, y):
            g[x][y]["weight"] += 1.0
        else:
            g.add_edge(x, y, weight=1.0)
    t0 = time.perf_counter()
    theirs = nx.pagerank(g, alpha=0.85, tol=1e-6, weight="weight")
    out["networkx_pagerank_100k_s"] = round(time.perf_counter() - t0, 4)
    ref = np.array([theirs[i] for i in range(nodes.shape[0])])
    out["pagerank_max_abs_diff"] = float(np.abs(ref - ours).max())
    out["ratio_vs_baseline"] = round(out["networkx_pagerank_100k_s"] / out["pagerank_100k_s"], 2)
    print(
        f"      networkx PageRank: {out['networkx_pagerank_100k_s']:.3f}s "
        f"-> engine is {out['ratio_vs_baseline']:.1f}x faster "
        f"(max |diff| {out['pagerank_max_abs_diff']:.2e})",
        flush=True,
    )
    return out


def run(size: str) -> dict[str, float]:
    """Generate and score one size; figures keyed with the size's suffix."""
    n_people, n_edges = SIZES[size]
    # the default run keeps its historical key names (engine_1m_10m_s, peak_rss_mb, ...)
    sfx = "" if size == "default" else f"_{size}"
    engine_key = "engine_1m_10m" if size == "default" else "engine_large"
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    inter = make_graph(n_people, n_edges)
    out[f"generate{sfx}_s"] = round(time.perf_counter() - t0, 3)
    out[f"input_rss{sfx}_mb"] = round(peak_rss_mb(), 1)
    print(
        f"[{size}] generated {n_people:,} people / {n_edges:,} interactions "
        f"in {out[f'generate{sfx}_s']:.2f}s (peak rss so far {out[f'input_rss{sfx}_mb']:.0f} MB)",
        flush=True,
    )
    t0, c0 = time.perf_counter(), time.process_time()
    result = score_window(inter, None, as_of=NOW)
    out[f"{engine_key}_s"] = round(time.perf_counter() - t0, 3)
    # CPU seconds too: on a shared machine wall time includes waiting for other processes
    out[f"{engine_key}_cpu_s"] = round(time.process_time() - c0, 3)
    out[f"peak_rss{sfx}_mb"] = round(peak_rss_mb(), 1)
    wall_target, rss_target = TARGETS[size]
    print(
        f"[{size}] scored end to end in {out[f'{engine_key}_s']:.2f}s "
        f"({out[f'{engine_key}_cpu_s']:.2f}s CPU; target {wall_target:.0f}s), "
        f"peak rss {out[f'peak_rss{sfx}_mb']:.0f} MB (target {rss_target:.0f} MB); "
        f"mean active score {result.score[result.raw > 0].mean():.1f}",
        flush=True,
    )
    del result
    if size == "default":
        out.update(compare_pagerank(inter))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--large", action="store_true", help="also 10M people / 100M interactions (~8 GB)"
    )
    parser.add_argument("--out", default=str(REPO / "var" / "bench" / "score.json"))
    parser.add_argument("--only", choices=sorted(SIZES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        # child process of --large: one size, figures on stdout's last line
        print(json.dumps(run(args.only)))
        return

    out = run("default")
    path = Path(args.out)
    if args.large:
        child = subprocess.run(
            [sys.executable, __file__, "--only", "large"],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        lines = child.stdout.strip().splitlines()
        print("\n".join(lines[:-1]), flush=True)
        out.update(json.loads(lines[-1]))
    else:
        previous = json.loads(path.read_text()) if path.exists() else {}
        kept = {k: v for k, v in previous.items() if "_large" in k}
        out.update(kept)
        how = f"{sys.executable} {Path(__file__).relative_to(REPO)} --large"
        if kept:
            print(f"large figures kept from an earlier --large run; refresh with: {how}")
        else:
            print(f"10M/100M run (~45 s, ~6 GB of RAM) is opt-in: {how}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
