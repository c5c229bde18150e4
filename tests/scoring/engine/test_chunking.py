"""The engine works in chunks to bound memory; chunk size never changes a result, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import scoring.engine.score as engine_score
from scoring.engine import EngineResult, Interactions, Posts, score_window
from scoring.engine.registry import VERSIONS

DAY = 86400.0
NOW = 1_700_000_000.0


def busy_window() -> tuple[Interactions, Posts]:
    """Power-law actions with a back-scratching ring, self-actions, posts and several networks."""
    rng = np.random.default_rng(3)
    n, m = 400, 6000
    receiver = (rng.pareto(1.1, m) * 5).astype(np.int64) % n
    actor = (rng.pareto(2.0, m) * n / 4).astype(np.int64) % n
    ring = np.arange(300, 312)
    ring_actor = np.repeat(ring, (ring.size - 1) * 4)
    ring_receiver = np.tile(
        np.concatenate([np.delete(ring, i) for i in range(ring.size)]), 4
    ).reshape(-1)
    actor = np.concatenate([actor, ring_actor, actor[:50]])
    receiver = np.concatenate([receiver, ring_receiver, actor[:50]])
    rows = actor.shape[0]
    inter = Interactions(
        actor=actor.astype(np.int32),
        receiver=receiver.astype(np.int32),
        kind=np.asarray(rng.integers(0, 8, rows), dtype=np.int8),
        time=np.asarray(NOW - rng.random(rows) * 100 * DAY),  # a few fall outside the window
        post=np.where(rng.random(rows) < 0.5, rng.integers(0, 300, rows), -1).astype(np.int64),
        network=np.asarray(rng.choice(np.array([-2, 0, 3], dtype=np.int8), rows), dtype=np.int8),
        n_people=n,
    )
    posts = Posts(
        author=rng.integers(0, n, 300).astype(np.int32),
        time=NOW - rng.random(300) * 95 * DAY,
        network=rng.integers(0, 3, 300).astype(np.int8),
        is_share=rng.random(300) < 0.3,
        is_reply=rng.random(300) < 0.3,
    )
    return inter, posts


def arrays(result: EngineResult) -> dict[str, np.ndarray]:
    out = {
        "raw": result.raw,
        "score": result.score,
        "true_reach": result.true_reach,
        "network_score": result.network_score,
        "style": result.style,
        "network_contributions": result.network_contributions,
        "last_received": result.last_received,
        "influence_data": result.influence.data,
        "influence_indices": result.influence.indices,
        "influence_indptr": result.influence.indptr,
        "post_actions": result.post_actions,
    }
    out.update({f"component {k}": v for k, v in result.components.items()})
    return out


@pytest.mark.parametrize("version", sorted(VERSIONS))
@pytest.mark.parametrize("with_posts", [False, True])
def test_chunk_size_changes_no_result_bit_for_bit(
    version: str, with_posts: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    inter, posts = busy_window()
    given_posts = posts if with_posts else None
    whole = arrays(score_window(inter, given_posts, as_of=NOW, version=version))

    for chunk in (1, 7, 1000):
        monkeypatch.setattr(engine_score, "_CHUNK", chunk)
        chunked = arrays(score_window(inter, given_posts, as_of=NOW, version=version))
        for name, expected in whole.items():
            assert chunked[name].dtype == expected.dtype, name
            assert chunked[name].tobytes() == expected.tobytes(), f"{name} differs at {chunk=}"


def test_back_scratching_ring_is_found_in_every_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    inter, _ = busy_window()
    whole = score_window(inter, None, as_of=NOW)
    monkeypatch.setattr(engine_score, "_CHUNK", 5)
    chunked = score_window(inter, None, as_of=NOW)
    ring = np.arange(300, 312)
    # ring members' own chatter is discounted: their reach sits far below their action count
    assert (whole.components["reach"][ring] < np.log1p(whole.actions_received[ring])).all()
    assert chunked.components["reach"][ring].tobytes() == whole.components["reach"][ring].tobytes()
