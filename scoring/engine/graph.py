"""Sparse weighted PageRank on the actor -> receiver graph (CSR, power iteration)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]


def edge_matrix(
    actor: npt.NDArray[np.integer],
    receiver: npt.NDArray[np.integer],
    weight: FloatArray | None,
    n: int,
) -> sp.csr_array:
    """Sum duplicate (actor, receiver) rows into a CSR matrix with actors as rows."""
    data = np.ones(actor.shape[0], dtype=np.float64) if weight is None else weight
    m = sp.coo_array(
        (data, (actor.astype(np.int32, copy=False), receiver.astype(np.int32, copy=False))),
        shape=(n, n),
    ).tocsr()
    m.sum_duplicates()
    return m


def pagerank(
    adjacency: sp.csr_array,
    *,
    damping: float = 0.85,
    personalization: FloatArray | None = None,
    tol: float = 1e-10,
    max_iter: int = 200,
) -> FloatArray:
    """Weighted PageRank: each row's weight is split over its targets; dangling mass teleports.

    Returns a probability vector (sums to 1). Converges when the L1 change drops below ``tol``.
    Deterministic: fixed operation order, no randomness.
    """
    n = adjacency.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    out = np.asarray(adjacency.sum(axis=1), dtype=np.float64).ravel()
    dangling = out <= 0
    inv = np.zeros(n, dtype=np.float64)
    inv[~dangling] = 1.0 / out[~dangling]
    # the transpose view (CSC) multiplies without copying the matrix
    transpose = adjacency.T
    if personalization is None:
        tele = np.full(n, 1.0 / n)
    else:
        total = float(personalization.sum())
        tele = personalization / total if total > 0 else np.full(n, 1.0 / n)
    x = tele.copy()
    for _ in range(max_iter):
        dangling_mass = float(x[dangling].sum())
        nxt = transpose @ (x * inv)
        nxt *= damping
        nxt += (damping * dangling_mass + (1.0 - damping)) * tele
        err = float(np.abs(nxt - x).sum())
        x = nxt
        if err < tol:
            break
    return np.asarray(x, dtype=np.float64)
