"""The grading contract shared by the rubric, the judge, batch grading and the UI.

Why a single model: every consumer (CLI, batch export, interview engine, history store,
evaluation) reads the same fields, so a change to grading never silently drops a field
somewhere downstream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, Protocol

from pydantic import BaseModel, Field

Coverage = Literal["covered", "partial", "missed"]
COVERAGE_CREDIT: dict[str, float] = {"covered": 1.0, "partial": 0.5, "missed": 0.0}
"""What a point made in full, in part or not at all counts towards the answer."""
Signal = Literal["rubric", "llm"]


class PointResult(BaseModel):
    """One key point of the reference and how the candidate's answer covers it."""

    label: str
    explanation: str = ""
    status: Coverage
    evidence: str = ""
    """The candidate's sentence that covers the point (empty when missed)."""
    similarity: float = 0.0
    """Best per-sentence match strength the rubric found, 0-1."""
    coverage: float = 0.0
    """Soft coverage from the evidence score's token alignment, 0-1 (not a step)."""
    contradicted: bool = False
    """The matching sentence negates or inverts the point's claim."""


class ReferenceUsed(BaseModel):
    """The card (or user-given reference) the answer was graded against."""

    card_id: str | None = None
    title: str = ""
    question: str = ""
    sources: list[str] = Field(default_factory=list)
    """``file:line`` of every source of the card."""
    match_score: float | None = None
    """Retrieval score when the card was found from free-text question; None if given."""
    anchored: bool = False
    """The card's anchor answers took part (its full anchor as one more reference)."""


class Takeaway(BaseModel):
    """What a candidate reads first, before the signals (grading/explain.py): why the
    score is what it is in one sentence, the strongest part of the answer in their own
    words, and the one addition that matters most. Empty fields say nothing to show
    (a grade saved by an older version has none)."""

    why: str = ""
    kind: str = ""
    """Which "why" it is (the key in grading/messages.toml without ``why_``: ``deep``,
    ``covered_thin``, ``stuffing`` ...), for the debrief's advice."""
    strength: str = ""
    """A quote of the candidate's own sentence."""
    addition: str = ""
    """The label of the point most worth adding (or correcting)."""
    addition_detail: str = ""
    """What the card says about it."""
    correct: bool = False
    """The addition is a correction: the answer stated the opposite of the point."""
    also: bool = False
    """The answer took another valid route: the addition is what the reference also
    covers, not what the answer lacks."""


class Grade(BaseModel):
    score: float = Field(ge=0, le=10)
    points: list[PointResult] = Field(default_factory=list)
    feedback: str = ""
    follow_up: str = ""
    gaps: list[str] = Field(default_factory=list)
    """Key points worth a follow-up, most valuable first: not made and not named by the
    answer (naming a point is addressing or arguing about it; grading/explain.py)."""
    takeaway: Takeaway = Field(default_factory=Takeaway)
    references: list[ReferenceUsed] = Field(default_factory=list)
    signals: list[Signal] = Field(default_factory=list)
    """Which graders contributed to ``score``."""
    flags: list[str] = Field(default_factory=list)
    """Machine-readable findings, the values of ``flags.GradeFlag`` (``empty``,
    ``off_topic``, ``injection``, ``llm_unavailable``, ``no_matching_card`` ...); stored
    as plain strings, so a grade saved by an older version still loads."""
    notes: list[str] = Field(default_factory=list)
    """Human-readable remarks, e.g. why the LLM was not used."""
    evidence: float | None = None
    """The evidence score (0-10) before caps and the LLM: how much of the best reference
    the answer says, in any words (coach/grading/evidence_score.py)."""
    depth: float | None = None
    """On-question, specific, explained content (0-10) whatever the reference says: what
    an answer that goes beyond the card earns (coach/grading/substance.py)."""
    llm_score: float | None = Field(default=None, ge=0, le=10)
    """The LLM's own 0-10 score (scorer or judge) before the blend; None without it."""
    confidence: float | None = Field(default=None, ge=0, le=1)
    """How far to trust ``score``, 0-1: agreement of the signals and how clearly the
    answer sits at one end (coach/grading/confidence.py)."""

    def breakdown(self) -> dict[str, float | None]:
        """The signals the score is made of (grading/formula.py), 0-10 each: agreement
        with the reference, depth of on-question content, the LLM's check. Shown in the
        chat, the batch output, the reports and the history instead of the sub-scores
        older versions showed (which never entered the score)."""
        return {"evidence": self.evidence, "depth": self.depth, "llm": self.llm_score}

    @property
    def covered(self) -> list[str]:
        return [p.label for p in self.points if p.status == "covered"]

    @property
    def partial(self) -> list[str]:
        return [p.label for p in self.points if p.status == "partial"]

    @property
    def missed(self) -> list[str]:
        return [p.label for p in self.points if p.status == "missed"]


class AsyncGrader(Protocol):
    """What batch grading and the interview engine need of ``grader.Grader``; tests pass
    fakes. Declared once, beside the Grade it returns.

    ``llm_timeout`` is part of the contract because a batch must bound each row's wait
    for the model whatever grader it is given (a server that accepts a request and then
    trickles would otherwise stall every row): seconds the LLM's verdict may take in all,
    retries included, before the rubric's (evidence) grade stands, flagged
    ``llm_unavailable``; ``None`` leaves only the per-call timeouts; ``0`` (no time at
    all) means the model is not asked, which is how a batch stops waiting for a server
    that keeps failing. A grader without an LLM ignores it."""

    async def agrade(
        self,
        question: str,
        answer: str,
        *,
        reference: str | None = None,
        card_id: str | None = None,
        llm_timeout: float | None = None,
    ) -> Grade: ...


class StagedGrader(AsyncGrader, Protocol):
    """What the interview engine needs: ``agrade`` plus ``astages``, which yields the
    rubric's grade before the judge's (see ``grader.Grader.astages``)."""

    def astages(
        self,
        question: str,
        answer: str,
        *,
        reference: str | None = None,
        card_id: str | None = None,
        llm_timeout: float | None = None,
    ) -> AsyncIterator[tuple[Grade, bool]]: ...
