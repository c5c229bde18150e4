"""The pure-maths Klout scoring engine: numpy/scipy in, frozen dataclasses out. No Django here."""

from scoring.engine.calibration import Calibration, calibrate
from scoring.engine.explain import explain_change
from scoring.engine.registry import LATEST, Algorithm, get_version
from scoring.engine.score import EngineResult, PersonScores, combine_persons, score_window
from scoring.engine.styles import STYLES
from scoring.engine.types import (
    Driver,
    Interactions,
    Kind,
    PersonRef,
    PersonResult,
    PostRef,
    Posts,
)

__all__ = [
    "LATEST",
    "STYLES",
    "Algorithm",
    "Calibration",
    "Driver",
    "EngineResult",
    "Interactions",
    "Kind",
    "PersonRef",
    "PersonResult",
    "PersonScores",
    "PostRef",
    "Posts",
    "calibrate",
    "combine_persons",
    "explain_change",
    "get_version",
    "score_window",
]
