"""The edge-list parser and the evaluation metrics (checked against scipy)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from scoring.engine import evaluation as ev
from scoring.engine.edgelist import read_edgelist
from scoring.engine.types import Kind


def test_read_edgelist_reports_bad_lines_with_numbers(tmp_path: Path) -> None:
    path = tmp_path / "edges.txt"
    path.write_text("% comment\n# another\n1 2 100\n2 3 oops\n\n3 1 2.0 300\n1\n")
    edges = read_edgelist(path)
    assert len(edges) == 2  # rows; the weighted row stands for 2 events
    assert [b.line_number for b in edges.bad_lines] == [4, 7]
    assert edges.labels[edges.actor[0]] == "1"
    assert edges.interactions().actor.shape[0] == 3


def test_read_edgelist_gzip_and_higgs_kinds(tmp_path: Path) -> None:
    path = tmp_path / "act.txt.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("10 20 5 RT\n10 20 3 MT\n30 20 4 RE\n")
    edges = read_edgelist(path)
    assert edges.time.tolist() == [3.0, 4.0, 5.0]  # sorted by time
    assert edges.kind.tolist() == [Kind.MENTION, Kind.REPLY, Kind.SHARE]
    assert edges.labels[edges.receiver[0]] == "20"


def test_spearman_and_kendall_match_scipy() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, 200).astype(float)
    y = x + rng.integers(0, 4, 200).astype(float)
    assert ev.spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)
    assert ev.kendall_tau_b(x, y) == pytest.approx(stats.kendalltau(x, y).statistic)


def test_precision_at_k() -> None:
    score = np.array([5.0, 4, 3, 2, 1])
    target = np.array([9.0, 0, 8, 0, 0])
    assert ev.precision_at_k(score, target, k=2) == 0.5


def test_bootstrap_interval_contains_estimate() -> None:
    rng = np.random.default_rng(2)
    x = rng.random(300)
    y = x + rng.random(300)
    lo, hi = ev.bootstrap_ci(ev.spearman, x, y, n_boot=50)
    assert lo <= ev.spearman(x, y) <= hi


def test_split_and_baselines_on_a_tiny_list(tmp_path: Path) -> None:
    path = tmp_path / "e.txt"
    path.write_text("1 2 1\n3 2 2\n1 3 3\n2 1 10\n3 2 11\n4 3 12\n")
    edges = read_edgelist(path)
    split = ev.make_split(edges, 5.0, "tiny")
    assert split.n_people == 3
    assert ev.baseline_in_count(split).sum() == 3
    assert ev.baseline_distinct(split).tolist() == [0.0, 2.0, 1.0]
    rows = ev.evaluate_split(split, n_boot=0)
    assert {r.method for r in rows} == set(ev.METHODS)
