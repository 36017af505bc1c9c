"""The JSON the LLM judge must return, as a pydantic model (its schema is what vLLM's
structured output enforces, and what a reply is validated against).

Why in the LLM layer and not beside the judge: the server's warm-up (``warmup``) sends
this very schema once at start, so vLLM compiles its grammar before the first grade; the
warm-up must not import grading, which sits above it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Guided decoding may only write the fields below: every generated token costs seconds on
# a CPU server, so the schema closes the objects (a reply that still carries extra keys,
# e.g. from a server without guided decoding, validates; they are ignored).
_CLOSED = ConfigDict(json_schema_extra={"additionalProperties": False})


class PointClaim(BaseModel):
    """No free-text reason per point: nothing downstream read it, and every token of
    a verdict costs a CPU server a fraction of a second (about 0.3 s on the 1.5B pack)."""

    model_config = _CLOSED

    index: int = Field(ge=1, description="The key point's number in the list.")
    verdict: Literal["covered", "partial", "missed", "contradicted"]


class JudgeVerdict(BaseModel):
    model_config = _CLOSED

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


def response_format() -> dict[str, Any]:
    """The ``response_format`` of a judge request (OpenAI's ``json_schema`` form)."""
    return {
        "type": "json_schema",
        "json_schema": {"name": "JudgeVerdict", "schema": JudgeVerdict.model_json_schema()},
    }
