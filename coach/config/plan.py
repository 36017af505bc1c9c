"""The plan of an interview for a job (`coach plan`, coach/jobs)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from coach.config.section import Section


class PlanSettings(Section):
    """How a job description becomes areas, matched cards and an allocation."""

    env_prefix: ClassVar[str] = "COACH_PLAN_"

    min_jd_chars: int = Field(default=60, ge=1)
    """A job description shorter than this is refused: it cannot name areas."""
    max_jd_chars: int = Field(default=20_000, ge=100)
    """Longer is refused (a pasted page, not a job description)."""
    candidates: int = Field(default=30, ge=1)
    """Hits searched per area; a hit becomes a match only when its card names the area."""
    cards_per_area: int = Field(default=6, ge=1)
    """Cards kept per area, best first."""
