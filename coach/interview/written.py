"""How a question written for a job's plan (coach/jobs) is graded differently from a
bank card's: its grade says so and is less sure, and a résumé deep dive answered about
another project scores as off the question.

Why here and not in the grader: the grader grades an answer against points; only the
interview knows the points were written by a model or a template, and which project a
deep dive asked about.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from coach.common.text import overlap
from coach.config import Settings
from coach.grading.flags import GradeFlag
from coach.grading.models import Grade


def about_project(answer: str, anchors: Sequence[str], settings: Settings) -> bool:
    """The answer names the project (enough of its title) or one of its own terms."""
    if not anchors:
        return True
    title, terms = anchors[0], anchors[1:]
    lowered = answer.lower()
    if any(term.lower() in lowered for term in terms):
        return True
    return overlap(title, answer) >= settings.plan.project_title_overlap


def mark_written(
    grade: Grade,
    answer: str,
    anchors: Sequence[str],
    settings: Settings,
    say: Callable[..., str],
) -> Grade:
    """The grade of an answer to a written question: flagged and less sure; for a
    résumé deep dive (``anchors``) that names neither its project nor any of the
    project's terms, capped at ``plan.other_project_cap`` and told why."""
    if GradeFlag.WRITTEN_REFERENCE in grade.flags:
        return grade
    factor = settings.plan.written_confidence
    update: dict[str, object] = {
        "flags": [*grade.flags, GradeFlag.WRITTEN_REFERENCE],
        "confidence": None if grade.confidence is None else round(grade.confidence * factor, 2),
    }
    if anchors and not about_project(answer, anchors, settings):
        cap = settings.plan.other_project_cap
        update["flags"] = [*update["flags"], GradeFlag.OTHER_PROJECT]  # type: ignore[list-item]
        update["score"] = min(grade.score, cap)
        why = say("other_project_why", project=anchors[0])
        update["takeaway"] = grade.takeaway.model_copy(update={"why": why, "strength": ""})
    return grade.model_copy(update=update)
