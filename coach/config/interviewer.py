"""The prepared interviewer: per card, written once by the LLM (`coach interviewer prepare`).

Why prepared and not live: on a CPU the 1.5B model needs 2-8 s for one short question
(measured 2026-12-07 with the server idle and loaded), longer than a candidate waits for a
follow-up, so questions asked live were the card's text and templates. Written ahead, once
per card, the interview asks them at once.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from coach.config.section import Section


class InterviewerSettings(Section):
    """What `coach interviewer prepare` writes and how the interview uses it."""

    env_prefix: ClassVar[str] = "COACH_INTERVIEWER_"

    use_prepared: bool = True
    """Ask the prepared phrasings and follow-ups when a card has them (templates otherwise)."""
    phrasings: int = Field(default=2, ge=0, le=5)
    """Other phrasings of each card's question, asked instead of the card's text now and
    then so that a card practised again does not read the same."""
    probes_per_point: int = Field(default=2, ge=1, le=4)
    """Probing follow-ups written per key point (why it works, when it fails...)."""
    max_points: int = Field(default=6, ge=1)
    """Key points per card that get follow-ups, in the card's order (a merged real-bank
    card lists up to 15; the rest fall back to templates)."""
    concurrency: int = Field(default=4, ge=1, le=32)
    """Requests in flight at once: vLLM batches them, which on a CPU gives more questions
    per minute than one request at a time."""
    point_chars: int = Field(default=120, ge=20)
    """A point as the prompt quotes it (label and explanation): enough for a specific
    question, short enough to keep each call's prompt small."""
    max_tokens: int = Field(default=60, ge=16)
    """One question's completion budget (a question stops at its first line break)."""
    temperature: float = Field(default=0.7, ge=0, le=2)
    """Above 0 so the second follow-up of a point is not the first one again."""
    timeout: float = Field(default=300.0, gt=0)
    """Seconds one call may take (calls queue behind each other on a CPU)."""
    max_overlap: float = Field(default=0.7, gt=0, le=1)
    """A question sharing this share of its bigrams with one already written for the card
    is a repeat and asked again (pairs that differ in one word measured 0.76-0.92;
    different questions about one point 0.35)."""
    attempts: int = Field(default=2, ge=1)
    """Tries per question before a usable one is given up on (the card keeps the rest)."""
