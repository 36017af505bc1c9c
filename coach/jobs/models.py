"""What the parts of a job's plan hand each other: the areas the LLM reads from a job
description, and the questions written for the plan rather than taken from the bank
(an area the bank does not cover, a project on the candidate's résumé).

Why one small module: the plan (coach/jobs/plan.py), the LLM's reading of the JD
(coach/jobs/llm_areas.py), the question writer (coach/jobs/writer.py) and the résumé
(coach/jobs/resume.py) are built and tested apart; they agree on these shapes only.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, Field

Origin = Literal["generated", "resume"]
"""``generated``: the LLM wrote it for an area the bank does not cover; ``resume``: a
deep-dive question about a project the résumé states."""


class LlmArea(BaseModel):
    """An area the LLM read from the JD, kept only when its words are the JD's own."""

    name: str
    core: bool
    terms: list[str]
    """The JD's own words for it (each found verbatim in the JD's kept lines)."""


class ExpectedPoint(BaseModel):
    """A point a good answer makes; graded like a card's key point."""

    label: str
    explanation: str = ""


class WrittenQuestion(BaseModel):
    """A question the plan wrote, with the points a good answer makes."""

    area: str
    origin: Origin
    question: str
    points: list[ExpectedPoint] = Field(default_factory=list)
    project: str = ""
    """``resume``: the project's title as the résumé states it."""
    model: str = ""
    """Who wrote it: the model's name, or ``template`` for the program's own wording."""
    anchors: list[str] = Field(default_factory=list)
    """``resume``: the project's title, then its own terms: an answer about this project
    names one of them (an answer about another project scores as off the question)."""

    @property
    def id(self) -> str:
        """Stable for the same area and question: a plan shown twice gives the same ids."""
        digest = hashlib.sha256(f"{self.origin}|{self.area}|{self.question}".encode()).hexdigest()
        return f"{self.origin}-{digest[:12]}"


class Project(BaseModel):
    """A project the résumé states: its title line and its text."""

    title: str
    text: str
    areas: list[str] = Field(default_factory=list)
    """Names of the areas (coach/jobs/areas.toml) the project's own text names."""
    terms: list[str] = Field(default_factory=list)
    """The project's own words that named them, in the order first seen."""
