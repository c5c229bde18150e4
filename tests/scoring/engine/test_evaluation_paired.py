"""The score's gap to the best baseline: a paired bootstrap interval (same resamples for both)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scoring.engine import evaluation as ev
from scoring.engine.edgelist import read_edgelist


def test_paired_difference_of_identical_predictions_is_exactly_zero() -> None:
    rng = np.random.default_rng(4)
    y = rng.random(200)
    x = y + rng.random(200)
    # unpaired resamples would scatter the difference around zero; paired ones cancel exactly
    assert ev.paired_bootstrap_diff_ci(ev.spearman, x, x.copy(), y, n_boot=50) == [0.0, 0.0]


def test_paired_difference_matches_resampling_both_on_the_same_people() -> None:
    rng = np.random.default_rng(5)
    y = rng.random(60)
    x1 = y + 0.3 * rng.random(60)
    x2 = y + 0.9 * rng.random(60)
    draws = np.random.default_rng(11)
    expected = []
    for _ in range(30):
        idx = draws.integers(0, 60, 60)
        expected.append(ev.spearman(x1[idx], y[idx]) - ev.spearman(x2[idx], y[idx]))
    lo, hi = np.nanpercentile(expected, [2.5, 97.5])
    got = ev.paired_bootstrap_diff_ci(ev.spearman, x1, x2, y, n_boot=30, seed=11)
    assert got == [round(float(lo), 4), round(float(hi), 4)]


def test_paired_interval_of_a_real_gap_excludes_zero_and_holds_the_estimate() -> None:
    rng = np.random.default_rng(6)
    y = rng.random(400)
    better = y + 0.2 * rng.random(400)
    worse = better + 0.6 * rng.random(400)  # shares better's noise: pairing cancels it
    gap = ev.spearman(better, y) - ev.spearman(worse, y)
    lo, hi = ev.paired_bootstrap_diff_ci(ev.spearman, better, worse, y, n_boot=100)
    assert 0 < lo <= gap <= hi
    own_lo, own_hi = ev.bootstrap_ci(ev.spearman, worse, y, n_boot=100)
    assert hi - lo < own_hi - own_lo


def test_paired_interval_is_deterministic_for_a_seed() -> None:
    rng = np.random.default_rng(7)
    y = rng.random(100)
    x1, x2 = y + rng.random(100), y + 2 * rng.random(100)
    first = ev.paired_bootstrap_diff_ci(ev.spearman, x1, x2, y, n_boot=40, seed=3)
    assert ev.paired_bootstrap_diff_ci(ev.spearman, x1, x2, y, n_boot=40, seed=3) == first
    assert ev.paired_bootstrap_diff_ci(ev.spearman, x1, x2, y, n_boot=40, seed=4) != first


def tiny_split(tmp_path: Path) -> ev.Split:
    """A random temporal edge list with a heavy-tailed receiver distribution, cut at its median."""
    rng = np.random.default_rng(8)
    m = 3000
    src = rng.integers(0, 300, m)
    dst = (rng.pareto(1.2, m) * 10).astype(int) % 300
    t = np.sort(rng.integers(1_000_000, 2_000_000, m))
    path = tmp_path / "edges.txt"
    path.write_text("".join(f"{a} {b} {w}\n" for a, b, w in zip(src, dst, t, strict=True)))
    edges = read_edgelist(path)
    return ev.make_split(edges, ev.parse_cut(edges, "median"), "tiny")


def test_evaluate_split_names_the_best_baseline_on_the_score_rows(tmp_path: Path) -> None:
    rows = ev.evaluate_split(tiny_split(tmp_path), n_boot=20)
    by = {r.method: r for r in rows}
    best = max(ev.BASELINES, key=lambda m: by[m].rho_recv)
    for method in ev.SCORES:
        row = by[method]
        assert row.best_baseline == best
        assert row.rho_recv_minus_best_baseline == pytest.approx(
            row.rho_recv - by[best].rho_recv, abs=2e-4
        )
        lo, hi = row.ci95[ev.GAP]
        assert lo <= hi
    assert all(by[m].best_baseline is None for m in ev.BASELINES)


def test_gap_appears_in_the_json_and_the_printed_table(tmp_path: Path) -> None:
    rows = ev.evaluate_split(tiny_split(tmp_path), n_boot=10)
    data = json.loads(json.dumps(ev.rows_to_json(rows)))
    score_row = next(r for r in data["sets"] if r["method"] == "score")
    baseline_row = next(r for r in data["sets"] if r["method"] == "in-count")
    assert len(score_row["ci95"][ev.GAP]) == 2
    assert score_row["best_baseline"] in ev.BASELINES
    assert "best_baseline" not in baseline_row
    table = ev.format_table(rows)
    assert f"score - {score_row['best_baseline']} (best baseline) rho_recv:" in table
    assert "paired bootstrap 95% CI" in table
