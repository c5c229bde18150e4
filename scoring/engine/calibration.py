"""Raw score -> 1..100, calibrated once per algorithm version and stored with it.

The mapping is ``score = 100 - 99 * exp(-k * raw)``: raw 0 is 1, the average active person (mean
raw over people with any reach) sits at ``target_mean`` (20), and every further point near the top
needs exponentially more raw influence. ``k`` is fixed when the version is calibrated, so a person's
score does not move just because other people joined later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Calibration:
    """The stored raw -> 1..100 mapping for one algorithm version."""

    version: str
    k: float
    mean_active_raw: float
    target_mean: float = 20.0
    n_people: int = 0

    def apply(self, raw: FloatArray) -> FloatArray:
        """Map raw scores to [1, 100] (monotone, deterministic)."""
        r = np.maximum(np.asarray(raw, dtype=np.float64), 0.0)
        return np.clip(100.0 - 99.0 * np.exp(-self.k * r), 1.0, 100.0)

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable form."""
        return {
            "version": self.version,
            "k": self.k,
            "mean_active_raw": self.mean_active_raw,
            "target_mean": self.target_mean,
            "n_people": self.n_people,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Calibration:
        """Inverse of :meth:`to_dict`."""
        return cls(
            version=str(data["version"]),
            k=float(data["k"]),  # type: ignore[arg-type]
            mean_active_raw=float(data["mean_active_raw"]),  # type: ignore[arg-type]
            target_mean=float(data.get("target_mean", 20.0)),  # type: ignore[arg-type]
            n_people=int(data.get("n_people", 0)),  # type: ignore[call-overload]
        )


def calibrate(raw: FloatArray, *, version: str, target_mean: float = 20.0) -> Calibration:
    """Fit the mapping so the mean active person (raw > 0) scores ``target_mean``."""
    active = raw[raw > 0]
    mean = float(active.mean()) if active.size else 1.0
    k = math.log(99.0 / (100.0 - target_mean)) / mean
    return Calibration(
        version=version, k=k, mean_active_raw=mean, target_mean=target_mean, n_people=int(raw.size)
    )
