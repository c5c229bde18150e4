"""Benchmark the scoring engine end to end on a seeded power-law interaction graph.

Default: 1M people / 10M interactions (``--large``: 10M / 100M). Prints wall time and peak RSS
per stage, compares the engine's PageRank with networkx on a 100k-edge subgraph in the same run,
and writes flat JSON (metric -> number, units in the names) to ``var/bench/score.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scoring.engine import Interactions, score_window  # noqa: E402
from scoring.engine.graph import edge_matrix, pagerank  # noqa: E402

DAY = 86400.0


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_graph(n_people: int, n_edges: int, seed: int = 7) -> Interactions:
    """Power-law receivers (Zipf-like), power-law actor activity, times over 90 days."""
    rng = np.random.default_rng(seed)
    # receivers: heavy tail (few people receive most); actors: milder tail
    receiver = (rng.pareto(1.1, n_edges) * 50).astype(np.int64) % n_people
    actor = (rng.pareto(2.0, n_edges) * n_people / 4).astype(np.int64) % n_people
    perm = rng.permutation(n_people)
    now = 1_700_000_000.0
    return Interactions(
        actor=perm[actor].astype(np.int32),
        receiver=perm[receiver].astype(np.int32),
        kind=rng.integers(0, 4, n_edges).astype(np.int8),
        time=now - rng.random(n_edges) * 90 * DAY,
        post=np.full(n_edges, -1, dtype=np.int64),
        network=rng.integers(0, 3, n_edges).astype(np.int8),
        n_people=n_people,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large", action="store_true", help="10M people / 100M interactions")
    parser.add_argument("--out", default=str(REPO / "var" / "bench" / "score.json"))
    args = parser.parse_args()
    n_people, n_edges = (10_000_000, 100_000_000) if args.large else (1_000_000, 10_000_000)
    label = "10m_100m" if args.large else "1m_10m"
    out: dict[str, float] = {}

    t0 = time.perf_counter()
    inter = make_graph(n_people, n_edges)
    out["generate_s"] = round(time.perf_counter() - t0, 3)
    print(
        f"[1/4] generated {n_people:,} people / {n_edges:,} interactions "
        f"in {out['generate_s']:.2f}s (rss {peak_rss_mb():.0f} MB)",
        flush=True,
    )
    rss_before = peak_rss_mb()

    t0, c0 = time.perf_counter(), time.process_time()
    result = score_window(inter, None, as_of=1_700_000_000.0)
    out[f"engine_{label}_s"] = round(time.perf_counter() - t0, 3)
    # CPU seconds too: on a shared machine wall time includes waiting for other processes
    out[f"engine_{label}_cpu_s"] = round(time.process_time() - c0, 3)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    out["input_rss_mb"] = round(rss_before, 1)
    print(
        f"[2/4] scored end to end in {out[f'engine_{label}_s']:.2f}s "
        f"({out[f'engine_{label}_cpu_s']:.2f}s CPU) "
        f"(peak rss {out['peak_rss_mb']:.0f} MB; mean active score "
        f"{result.score[result.raw > 0].mean():.1f})",
        flush=True,
    )

    # PageRank on a 100k-edge subgraph: engine vs networkx, same graph, same run
    sub = slice(0, 100_000)
    a, r = inter.actor[sub], inter.receiver[sub]
    nodes, inv = np.unique(np.concatenate([a, r]), return_inverse=True)
    la, lr = inv[: a.shape[0]], inv[a.shape[0] :]
    t0 = time.perf_counter()
    ours = pagerank(edge_matrix(la, lr, None, nodes.shape[0]), damping=0.85, tol=1e-6)
    out["pagerank_100k_s"] = round(time.perf_counter() - t0, 4)
    print(f"[3/4] engine PageRank on 100k edges: {out['pagerank_100k_s']:.3f}s", flush=True)

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
        f"[4/4] networkx PageRank: {out['networkx_pagerank_100k_s']:.3f}s "
        f"-> engine is {out['ratio_vs_baseline']:.1f}x faster "
        f"(max |diff| {out['pagerank_max_abs_diff']:.2e})",
        flush=True,
    )

    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
