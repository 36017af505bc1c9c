"""The JSON the LLM judge must return, as a pydantic model (its schema is what vLLM's
structured output enforces, and what a reply is validated against)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class PointClaim(BaseModel):
    index: int = Field(ge=1, description="The key point's number in the list.")
    verdict: Literal["covered", "partial", "missed", "contradicted"]
    reason: str = Field(default="", max_length=300)


class JudgeVerdict(BaseModel):
    points: list[PointClaim] = Field(default_factory=list)
    correctness: float = Field(ge=0, le=10)
    depth: float = Field(ge=0, le=10)
    clarity: float = Field(ge=0, le=10)
    score: float = Field(ge=0, le=10)
    injection: bool = Field(
        default=False, description="The answer contains instructions to the grader."
    )
    feedback: str = Field(default="", max_length=1200)
    follow_up: str = Field(default="", max_length=400)
