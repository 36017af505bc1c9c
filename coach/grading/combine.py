"""The findings and the LLM's signal into one Grade; the number itself is formula.py's.

``combine_scored`` is the default path (the scorer's one token); ``combine`` puts the
older JSON judge behind the same interface: its score is the LLM's signal, its per-point
claims may move a point one step, its Chinese words may replace the evidence grade's.
"""

from __future__ import annotations

from coach.common.text import content_chars
from coach.config import Settings
from coach.grading import formula
from coach.grading.confidence import confidence
from coach.grading.flags import CAPPED_FLAGS, GradeFlag
from coach.grading.models import Grade, PointResult
from coach.grading.rubric import RubricResult
from coach.index.tokenize import has_cjk
from coach.llm.judge_schema import JudgeVerdict


def _chinese_prose(text: str) -> str:
    """The judge's free text when it is what the prompt asks for (Chinese), else "".

    Why: a weak model fills the fields with anything; SmolLM2 answered a Chinese
    question with the feedback "follow_up". The rubric's own text stands in for it.
    """
    text = text.strip()
    return text if has_cjk(text) else ""


def _evidence(rubric: RubricResult) -> float | None:
    return round(10 * rubric.evidence.score, 2) if rubric.evidence else None


def rubric_grade(rubric: RubricResult, notes: list[str]) -> Grade:
    return Grade(
        evidence=_evidence(rubric),
        depth=round(10 * rubric.substance.depth, 2) if rubric.substance else None,
        confidence=confidence(rubric.evidence, rubric.flags),
        score=rubric.score,
        points=rubric.points,
        feedback=rubric.feedback,
        follow_up=rubric.follow_up,
        gaps=rubric.gaps,
        takeaway=rubric.takeaway,
        references=[rubric.reference],
        signals=["rubric"],
        flags=list(rubric.flags),
        notes=[*rubric.notes, *notes],
    )


def _merge_points(rubric: RubricResult, verdict: JudgeVerdict) -> list[PointResult]:
    claims = {c.index: c for c in verdict.points}
    merged = []
    for i, point in enumerate(rubric.points, start=1):
        point = point.model_copy()
        claim = claims.get(i)
        if claim is not None:
            if claim.verdict == "contradicted" and point.status != "missed":
                point.status, point.contradicted = "missed", True
            elif claim.verdict == "covered" and point.status == "partial":
                point.status = "covered"
            elif claim.verdict == "missed" and point.status == "covered":
                point.status = "partial"
        merged.append(point)
    return merged


def combine(
    rubric: RubricResult, verdict: JudgeVerdict | None, settings: Settings, notes: list[str]
) -> Grade:
    """The evidence grade and the JSON judge's verdict: the judge sits behind the
    scorer's interface (its ``score`` is the LLM's signal in the one formula); its
    per-point claims may move a point one step, and its Chinese feedback and follow-up
    replace the evidence grade's words (not where a guard capped the score)."""
    if verdict is None:
        return rubric_grade(rubric, notes)
    flags = [GradeFlag.INJECTION] if verdict.injection else []
    grade = combine_scored(rubric, verdict.score, settings, notes, flags)
    grade.points = _merge_points(rubric, verdict)
    llm_feedback = _chinese_prose(verdict.feedback)
    grade.feedback = llm_feedback or rubric.feedback
    if any(f in grade.flags for f in CAPPED_FLAGS):
        grade.feedback = f"{rubric.feedback} {llm_feedback}".strip()
    grade.follow_up = _chinese_prose(verdict.follow_up) or rubric.follow_up
    return grade


def combine_scored(
    rubric: RubricResult,
    llm_score: float | None,
    settings: Settings,
    notes: list[str],
    flags: list[str],
) -> Grade:
    """The evidence grade blended with the LLM scorer's 0-10 by ``formula.llm_weight``
    (which depends on the answer's length); the caps and the contradiction penalty still
    apply, the LLM cannot lift the score more than ``grading_llm_max_lift``, and not at all on an
    empty, off-topic or injection answer (``no_lift``; the scorer's own flags count)."""
    grade = rubric_grade(rubric, notes)
    grade.flags.extend(f for f in flags if f not in grade.flags)
    if llm_score is None:
        return grade
    grade.score = formula.final_score(
        rubric.base,
        rubric.content,
        rubric.correctness_factor,
        grade.flags,
        settings,
        llm_score,
        rubric.wrong_share,
        content_chars(rubric.graded_text),
    )
    grade.signals = ["rubric", "llm"]
    grade.llm_score = round(llm_score, 3)
    grade.confidence = confidence(rubric.evidence, grade.flags, llm_score)
    return grade
