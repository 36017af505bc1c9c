"""Agreement of one grader with human graders: the scores joined and the figures.

Why a module of its own: coach's grades (``human_agreement``) and the label-free
baselines (``baselines``) are both measured this way in the same run; with the measure
here, neither module needs the other.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from coach.config import Settings
from coach.evaluation.metrics import (
    calibrated_rmse,
    fold_labels,
    mae,
    pearson,
    rmse,
    spearman,
)

COACH_SCALE = 10.0


class HumanScore(BaseModel):
    id: str
    human: float
    group: str = ""
    grader1: float | None = None
    grader2: float | None = None
    split: str = ""


class Agreement(BaseModel):
    """One grader configuration against the human scores, on ``scale`` (e.g. 0-5)."""

    label: str
    """``rubric`` or ``rubric + LLM (model)``."""
    answers: int
    """Answers with both a coach score and a human score."""
    errors: int = 0
    """Rows the batch could not grade (status=error); left out of the figures."""
    pearson: float | None
    spearman: float | None
    rmse: float
    """Raw: coach's score rescaled to ``scale``, no calibration."""
    calibrated_rmse: float | None
    """After isotonic calibration learnt on the other groups (the paper's protocol)."""
    mae: float
    mean_coach: float
    mean_human: float
    scale: float
    flags: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0
    answers_per_second: float = 0.0
    pairs: list[tuple[float, float]] = Field(default_factory=list, exclude=True)
    """(human, coach) on 0-10, for plots."""


def agreement(
    label: str,
    pairs: list[tuple[HumanScore, float]],
    *,
    scale: float,
    settings: Settings,
    errors: int = 0,
    flags: dict[str, int] | None = None,
) -> Agreement:
    """Figures for (human, coach-on-0-10) pairs, reported on 0-``scale``."""
    if not pairs:
        raise ValueError(f"{label}: no answer has both a coach and a human score.")
    factor = scale / COACH_SCALE
    human = [h.human * factor for h, _ in pairs]
    coach = [c * factor for _, c in pairs]
    groups: list[str] = [h.group for h, _ in pairs]
    if not all(groups):
        groups = [str(g) for g in fold_labels(len(pairs), settings.evaluation.calibration_folds, 0)]
    return Agreement(
        label=label,
        answers=len(pairs),
        errors=errors,
        pearson=pearson(coach, human),
        spearman=spearman(coach, human),
        rmse=rmse(coach, human),
        calibrated_rmse=calibrated_rmse(coach, human, groups),
        mae=mae(coach, human),
        mean_coach=sum(coach) / len(coach),
        mean_human=sum(human) / len(human),
        scale=scale,
        flags=flags or {},
        pairs=[(h.human, c) for h, c in pairs],
    )
