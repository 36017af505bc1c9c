"""``coach eval``: samples, reruns, plots."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from coach.config.section import CommaStrings, Section


class EvalSettings(Section):
    """`coach eval`: sampling, reruns and the models it grades with (coach/evaluation)."""

    env_prefix: ClassVar[str] = "COACH_EVAL_"
    env_names: ClassVar[dict[str, str]] = {
        "plot_dpi": "COACH_REPORT_PLOT_DPI",
    }

    sample_seed: int = 2011
    """Seed of the random sample ``--limit`` draws, so reruns grade the same answers."""
    llm_sample: int = Field(default=60, ge=1)
    """Answers graded with the LLM when no ``--limit`` is given: a CPU judge takes ~10 s
    per answer, so all 2,273 Mohler answers would take hours. The rubric grades all."""
    rerun_sample: int = Field(default=200, ge=1)
    """Answers of each human-scored set graded a second time (no LLM) to measure the
    largest score difference between two runs."""
    llm_models: CommaStrings = Field(default_factory=list)
    """Models ``coach eval`` grades with, each reported on its own (``a,b`` or a JSON
    list); default: ``llm_model``. Models the server does not list are skipped."""
    calibration_folds: int = Field(default=12, ge=2)
    """Folds for the isotonic-calibrated RMSE when a set has no ``group`` column (Mohler
    et al. hold out one assignment at a time; eval/mohler has that column)."""
    fit_weight_shown: int = Field(default=8, ge=1)
    """Candidates ``coach eval fit-weight`` prints, best first (and the best single
    weight, which a split by length must beat)."""
    plot_dpi: int = Field(default=110, ge=50, le=600)
