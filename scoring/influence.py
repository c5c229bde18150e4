"""How many people each person influences and is influenced by (the pages keep only the top five;
the API's legacy `myInfluencersCount` / `myInfluenceesCount` and the modern API need the totals)."""

from __future__ import annotations

import numpy as np

from scoring.engine.score import EngineResult


def influence_totals(result: EngineResult, n: int) -> tuple[list[int], list[int]]:
    """Per person (dense index < n): (influencers, influencees) counted over positive influence.

    An influencer of X is someone X reacts to; an influencee of X is someone who reacts to X.
    """
    coo = result.influence.tocoo()
    keep = (coo.data > 0) & (coo.row != coo.col)
    actor = coo.row[keep].astype(np.int64)
    recv = coo.col[keep].astype(np.int64)
    influencers = np.bincount(actor[actor < n], minlength=n)[:n]
    influencees = np.bincount(recv[recv < n], minlength=n)[:n]
    return influencers.tolist(), influencees.tolist()
