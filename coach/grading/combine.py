"""Combine the rubric's evidence with the LLM judge's verdict into one Grade.

The rubric is the anchor: the judge's per-point claims may upgrade a point the rubric
found partly (one step, never from nothing) and may mark a point wrong; its sub-scores
mix with the rubric's by ``grading_weight_llm``; it cannot lift the score more than
``grading_llm_max_lift`` above the rubric's, nor above the rubric's ceiling (empty,
off-topic, injection, stuffing). On an empty, off-topic or injection answer it cannot
lift the score at all (``no_lift``): it may lower it, never raise it. See DESIGN.md
"Grading: why two signals".
"""

from __future__ import annotations

from coach.config import Settings
from coach.grading import formula
from coach.grading.confidence import confidence
from coach.grading.flags import CAPPED_FLAGS, DECISIVE_FLAGS, GradeFlag
from coach.grading.models import Grade, PointResult, SubScores
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


def no_lift(flags: list[str]) -> bool:
    """Whether the LLM may only lower the rubric's score, never raise it.

    Why: these flags say there is no answer to credit (empty, off-topic) or that the
    answer speaks to the grader (injection), and an LLM that read an injection is the
    one signal that may have obeyed it: with the LLM on, a pure injection scored 0 by
    the rubric was lifted to the injection cap (2.0) by the blend. The cap bounds the
    damage; this removes the lift.
    """
    return any(f in flags for f in DECISIVE_FLAGS)


def _bounded(
    mixed: float, rubric: RubricResult, settings: Settings, ceiling: float, flags: list[str]
) -> float:
    """The blended score under the lift limit, the ceiling and, for decisive flags, the
    rubric's own score."""
    top = rubric.score if no_lift(flags) else rubric.score + settings.grading.llm_max_lift
    return round(max(0.0, min(mixed, top, ceiling)), 2)


def _evidence(rubric: RubricResult) -> float | None:
    return round(10 * rubric.evidence.score, 2) if rubric.evidence else None


def rubric_grade(rubric: RubricResult, notes: list[str]) -> Grade:
    return Grade(
        evidence=_evidence(rubric),
        depth=round(10 * rubric.substance.depth, 2) if rubric.substance else None,
        confidence=confidence(rubric.evidence, rubric.flags),
        score=rubric.score,
        sub_scores=rubric.sub_scores,
        points=rubric.points,
        feedback=rubric.feedback,
        follow_up=rubric.follow_up,
        gaps=rubric.gaps,
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
    if verdict is None:
        return rubric_grade(rubric, notes)
    w = settings.grading.weight_llm
    flags = list(rubric.flags)
    if verdict.injection and GradeFlag.INJECTION not in flags:
        flags.append(GradeFlag.INJECTION)
    ceiling = rubric.ceiling
    if GradeFlag.INJECTION in flags:
        ceiling = min(ceiling, settings.grading.injection_cap)
    points = _merge_points(rubric, verdict)
    r = rubric.sub_scores
    sub = SubScores(
        coverage=r.coverage,
        correctness=round((1 - w) * r.correctness + w * verdict.correctness, 2),
        depth=round((1 - w) * r.depth + w * verdict.depth, 2),
        clarity=round((1 - w) * r.clarity + w * verdict.clarity, 2),
    )
    mixed = (1 - w) * rubric.score + w * verdict.score
    score = _bounded(mixed, rubric, settings, ceiling, flags)
    llm_feedback = _chinese_prose(verdict.feedback)
    feedback = llm_feedback or rubric.feedback
    if any(f in flags for f in CAPPED_FLAGS):
        feedback = f"{rubric.feedback} {llm_feedback}".strip()
    return Grade(
        evidence=_evidence(rubric),
        confidence=confidence(rubric.evidence, flags, verdict.score),
        llm_score=verdict.score,
        score=score,
        sub_scores=sub,
        points=points,
        feedback=feedback,
        follow_up=_chinese_prose(verdict.follow_up) or rubric.follow_up,
        references=[rubric.reference],
        signals=["rubric", "llm"],
        flags=flags,
        notes=[*rubric.notes, *notes],
    )


def combine_scored(
    rubric: RubricResult,
    llm_score: float | None,
    settings: Settings,
    notes: list[str],
    flags: list[str],
) -> Grade:
    """The evidence grade blended with the LLM scorer's 0-10 by
    ``grading_weight_scorer``; the caps and the contradiction penalty still apply, the
    LLM cannot lift the score more than ``grading_llm_max_lift``, and not at all on an
    empty, off-topic or injection answer (``no_lift``; the scorer's own flags count)."""
    grade = rubric_grade(rubric, notes)
    grade.flags.extend(f for f in flags if f not in grade.flags)
    if llm_score is None:
        return grade
    grade.score = formula.final_score(
        rubric.base, rubric.content, rubric.correctness_factor, grade.flags, settings, llm_score
    )
    grade.signals = ["rubric", "llm"]
    grade.llm_score = round(llm_score, 3)
    grade.confidence = confidence(rubric.evidence, grade.flags, llm_score)
    return grade
