"""How far to trust a grade: one number a candidate or a teacher can act on.

Why these two parts: a grade is trustworthy when its independent signals agree (the
whole-reference agreement, the key-point coverage, the level of the card's nearest
anchor answer when it has anchors and, when it ran, the LLM) and when
the answer sits clearly at one end (near a reference, or far from every one); a grade
in the middle on which the signals disagree is the one a person should read again.
A card matched only loosely to the question halves it.
"""

from __future__ import annotations

from coach.grading.evidence_score import Evidence
from coach.grading.flags import DECISIVE_FLAGS, LOOSE_REFERENCE_FLAGS, GradeFlag


def confidence(
    evidence: Evidence | None, flags: list[str], llm_score: float | None = None
) -> float:
    """0-1; ``llm_score`` is the LLM's own 0-10 score when it graded."""
    if evidence is None:
        return 1.0 if GradeFlag.EMPTY in flags else 0.5
    signals = [evidence.reference]
    if evidence.coverage is not None:
        signals.append(evidence.coverage)
    if llm_score is not None:
        signals.append(llm_score / 10)
    if evidence.anchor_value is not None:
        signals.append(evidence.anchor_value)
    agreement = 1.0 - (max(signals) - min(signals))
    decisiveness = abs(2 * evidence.score - 1)
    value = 0.5 * agreement + 0.5 * decisiveness
    if any(f in flags for f in DECISIVE_FLAGS):
        value = max(value, 0.8)
    if any(f in flags for f in LOOSE_REFERENCE_FLAGS):
        value *= 0.5
    return round(min(1.0, max(0.0, value)), 2)
