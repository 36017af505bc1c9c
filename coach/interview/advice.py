"""What the model writes about an answer: advice after the grade, and a stronger version
of the answer on demand (issue 30). Neither enters the score.

Why a module of its own: the engine decides *when* (after the grade, on the button);
this says *what the model is given*. Both prompts get the card's points and the grade's
findings, so the model coaches from the same evidence the score was made of, and the
candidate's text, clipped and with its ``<answer>`` tags cut, so that an answer cannot
close the data block and speak to the model as the prompt.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from coach.config import Settings
from coach.corpus.models import QuestionCard
from coach.grading.models import Grade

_TAGS = re.compile(r"<\s*/?\s*answer\s*>", re.IGNORECASE)


def as_data(text: str, limit: int) -> str:
    """The candidate's text as the prompt's data block holds it."""
    text = _TAGS.sub(" ", text).strip()
    return text if len(text) <= limit else text[:limit] + "…"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def points_text(card: QuestionCard, settings: Settings) -> str:
    limit = settings.interview.advice_point_chars
    lines = [
        f"- {p.label}：{_clip(p.explanation, limit)}" if p.explanation else f"- {p.label}"
        for p in card.key_points
    ]
    return "\n".join(lines) or _clip(card.answer, limit * 4)


def findings_text(grade: Grade) -> str:
    """The grade in a line: why, what was made, what is worth adding."""
    parts = [grade.takeaway.why] if grade.takeaway.why else []
    if grade.covered:
        parts.append("讲到了：" + "、".join(grade.covered))
    if grade.takeaway.addition:
        parts.append("最值得补充：" + grade.takeaway.addition)
    elif grade.missed:
        parts.append("没讲到：" + "、".join(grade.missed[:3]))
    return "；".join(parts) or "-"


def advice_values(
    question: str, card: QuestionCard, grade: Grade, answer: str, language: str, settings: Settings
) -> dict[str, str]:
    return {
        "language": language,
        "question": question,
        "points": points_text(card, settings),
        "findings": findings_text(grade),
        "answer": as_data(answer, settings.interview.advice_answer_chars),
    }


def stronger_values(
    question: str,
    card: QuestionCard,
    answer: str,
    passages: Sequence[Any],
    language: str,
    settings: Settings,
) -> tuple[dict[str, str], list[str]]:
    """The prompt's values and the sources it numbers: [1] the card, then the passages
    retrieval found for the question (``search`` hits with title, source and text)."""
    card_source = card.sources[0].ref() if card.sources else card.title
    material = [f"[1] {card.title} ({card_source})\n{points_text(card, settings)}"]
    sources = [card_source]
    limit = settings.interview.advice_point_chars * 3
    for hit in passages:
        if hit.source in sources:
            continue
        sources.append(hit.source)
        material.append(f"[{len(sources)}] {hit.title} ({hit.source})\n{_clip(hit.text, limit)}")
    values = {
        "language": language,
        "question": question,
        "material": "\n\n".join(material),
        "answer": as_data(answer, settings.interview.advice_answer_chars),
    }
    return values, sources
