"""The coach's words on an answer: advice after the grade, and a stronger version of the
answer on demand (issue 30). Neither enters the score.

Why the program writes most of it and the model one sentence: given the card, the
findings and the answer and asked for 2-4 sentences of advice, the 1.5B CPU model
recited the card's list as numbered points and praised a method the answer had argued
against; asked to rewrite an expert's answer, it dropped the expert's content, repeated
one generic clause six times and took 152 s (eval/README.md, "The coach coaches"). So the
advice opens with the answer's strongest part in the candidate's own words (the grade's
finding), and the model writes one sentence about the one point worth adding, from the
card's text for it; without the model that sentence is the card's. The stronger answer
keeps the candidate's answer as written and adds the card's missing points, each cited;
the model's rewrite stays available (``interview.stronger_by_model``) for a stronger
model. The candidate's text reaches a prompt clipped and with its ``<answer>`` tags cut,
so that an answer cannot close the data block and speak to the model as the prompt.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from coach.common.text import clip, overlap
from coach.config import Settings
from coach.corpus.models import QuestionCard
from coach.grading.explain import Band, band
from coach.grading.models import Grade, PointResult
from coach.index.tokenize import has_cjk
from coach.interview.models import Language
from coach.interview.phrases import phrase, phrase_variants

if TYPE_CHECKING:
    from coach.interview.report import SessionReport

_TAGS = re.compile(r"<\s*/?\s*answer\s*>", re.IGNORECASE)


def as_data(text: str, limit: int) -> str:
    """The candidate's text as the prompt's data block holds it."""
    return clip(_TAGS.sub(" ", text).strip(), limit)


_SENTENCE_END = re.compile(r"[。！？!?]|\.(?=\s|$)")


def whole_sentences(text: str) -> str:
    """``text`` up to its last finished sentence: a reply cut by the token budget ends
    mid-sentence, and half a sentence of advice reads as a fault. Unchanged when it has
    no finished sentence at all."""
    text = text.strip()
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[: ends[-1]] if ends else text


def _clip(text: str, limit: int) -> str:
    return clip(" ".join(text.split()), limit)


def points_text(card: QuestionCard, settings: Settings) -> str:
    limit = settings.interview.advice_point_chars
    lines = [
        f"- {p.label}：{_clip(p.explanation, limit)}" if p.explanation else f"- {p.label}"
        for p in card.key_points
    ]
    return "\n".join(lines) or _clip(card.answer, limit * 4)


def advice_opening(grade: Grade, language: Language) -> str:
    """The advice's first sentence: the strongest part, quoted (nothing for a weak
    answer, whose best sentence may be its wrong claim)."""
    take = grade.takeaway
    if take.strength and take.kind not in WEAK_KINDS:
        return phrase(language, "advice_strength", quote=take.strength)
    kind = take.kind if take.kind in ("dont_know", "stuffing") else "weak"
    return phrase(language, f"advice_start_{kind}")


WEAK_KINDS = frozenset({"little", "stuffing", "off_topic", "injection", "empty", "dont_know"})


def advice_fallback(grade: Grade, language: Language) -> str:
    """The improvement sentence when the model does not write one: the card's own."""
    take = grade.takeaway
    if take.kind in ("off_topic", "injection"):
        return phrase(language, "advice_refocus")
    if not take.addition:
        return phrase(language, "advice_keep" if take.kind not in WEAK_KINDS else "advice_more")
    key = "advice_fix" if take.correct else "advice_also" if take.also else "advice_add"
    detail = take.addition_detail or take.addition
    return phrase(language, key, label=take.addition, text=detail)


def advice_values(
    question: str, card: QuestionCard, grade: Grade, answer: str, language: str, settings: Settings
) -> dict[str, str] | None:
    """The model's one sentence: about the point worth adding, from the card's text for
    it. None when there is no such point, or when the answer took another valid route:
    there the card's point is only what the reference also covers, and the model, asked
    anyway, called it "the effective method" for an expert who had argued otherwise; nor
    when the candidate said they do not know: the card's explanation teaches the point,
    and the model, asked, judged the non-answer ("这个答案没有提到能源消耗的问题") instead."""
    take = grade.takeaway
    if not take.addition or take.also or take.kind in ("dont_know", "empty"):
        return None
    point = next((p for p in card.key_points if p.label == take.addition), None)
    detail = point.explanation if point and point.explanation else take.addition_detail
    return {
        "language": language,
        "question": question,
        "point": take.addition,
        "reference": _clip(detail or take.addition, settings.interview.advice_point_chars * 2),
        "correct": "yes" if take.correct else "no",
        "answer": as_data(answer, settings.interview.advice_answer_chars),
    }


def usable_advice(sentence: str, label: str, question: str) -> bool:
    """The model's sentence is advice about the point: it names the point and is not a
    question. On the 1.5B pack, 5 of 9 sentences echoed the interview question instead
    ("在 AI 大模型创业中，如何处理训练中的数据隐私问题？"); those give way to the card's."""
    flat = sentence.strip()
    if not flat or flat.endswith(("？", "?")) or label.lower() not in flat.lower():
        return False
    core = question.strip().rstrip("？?")
    return core not in flat


def first_sentence(text: str) -> str:
    text = text.strip()
    match = _SENTENCE_END.search(text)
    return text[: match.end()] if match else text


def numbered_sources(card: QuestionCard, passages: Sequence[Any]) -> tuple[list[str], list[Any]]:
    """[1] the card's first source, then each passage of another source, in order: the
    numbering both stronger answers cite. Returns the sources and the passages kept."""
    sources = [card.sources[0].ref() if card.sources else card.title]
    kept = []
    for hit in passages:
        if hit.source not in sources:
            sources.append(hit.source)
            kept.append(hit)
    return sources, kept


def compose_stronger(
    card: QuestionCard,
    grade: Grade,
    answer: str,
    passages: Sequence[Any],
    language: Language,
    limit: int = 4,
) -> tuple[str, list[str]]:
    """The candidate's answer as written, then what the card adds: the points it stated
    the opposite of (corrected), then those it did not make, each cited [1]; then the
    passages retrieval found, as further reading [2], [3]. Invents nothing. At most
    ``limit`` points, most valuable first (a merged card of a real bank listed 15, some
    twice: "差分隐私" and "访问控制")."""
    sources, further = numbered_sources(card, passages)
    lines = [phrase(language, "stronger_yours"), "", answer.strip(), ""]
    fixes = [p for p in grade.points if p.contradicted]
    adds = [p for p in grade.points if p.status != "covered" and not p.contradicted]
    explanations = {p.label: p.explanation for p in card.key_points}
    # points named but not explained are explained; of those not named, only the ones
    # the answer did not argue about (grade.gaps): an answer that weighed grid search
    # and rejected it is not told to add grid search. On another valid route, only gaps.
    also = grade.takeaway.also
    rank = {label: i for i, label in enumerate(grade.gaps)}
    adds = sorted(
        (p for p in adds if p.label in rank or (p.status == "partial" and not also)),
        key=lambda p: rank.get(p.label, len(rank)),
    )
    first: dict[str, PointResult] = {}  # each label once, as first listed
    for p in [*fixes, *adds]:
        first.setdefault(p.label, p)
    chosen = list(first.values())[:limit]
    if chosen:
        lines += [phrase(language, "stronger_also" if also else "stronger_adds"), ""]
    for point in chosen:  # corrections first, as listed
        key = "stronger_fix" if point.contradicted else "stronger_add"
        text = explanations.get(point.label) or point.explanation
        lines.append(phrase(language, key, label=point.label, text=text, n=1))
    reading = [f"[{n}] {hit.title}" for n, hit in enumerate(further, 2)]
    if reading:
        joined = ("；" if language == "zh" else "; ").join(reading)
        lines += ["", phrase(language, "stronger_reading", items=joined)]
    return "\n".join(lines).strip(), sources


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
    sources, further = numbered_sources(card, passages)
    material = [f"[1] {card.title} ({sources[0]})\n{points_text(card, settings)}"]
    limit = settings.interview.advice_point_chars * 3
    material += [
        f"[{n}] {hit.title} ({hit.source})\n{_clip(hit.text, limit)}"
        for n, hit in enumerate(further, 2)
    ]
    values = {
        "language": language,
        "question": question,
        "material": "\n\n".join(material),
        "answer": as_data(answer, settings.interview.advice_answer_chars),
    }
    return values, sources


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def summary_facts(report: SessionReport, language: Language, settings: Settings) -> str:
    """The debrief as the summary prompt sees it, each line labelled: the mean and its
    band word, each question's score or outcome, the strengths and gaps (clipped) and the
    three actions; nothing the chat does not already show."""
    limit = settings.interview.advice_point_chars
    say = partial(phrase, language)
    scores = [
        f"{r.title} {_fmt_score(r.score) if r.score is not None else say(f'outcome_{r.outcome}')}"
        for r in report.results
    ]
    mean = f"{_fmt_score(report.mean_score)} ({summary_band(report, settings, language)})"
    lines = [
        f"{say('report_mean')}: {mean}",
        f"{say('report_questions')}: {'; '.join(scores)}",
    ]
    lines += [
        f"{say('report_strengths')}: {h.title}「{_clip(h.quote, limit)}」" for h in report.strengths
    ]
    lines += [
        f"{say('report_gaps')}: {h.title} → {_clip(h.point or h.quote, limit)}" for h in report.gaps
    ]
    lines += [
        f"{say('report_actions')} {i}: {_clip(a, limit)}" for i, a in enumerate(report.actions, 1)
    ]
    return "\n".join(lines)


def _session_band(report: SessionReport, settings: Settings) -> Band:
    return band(report.mean_score or 0.0, settings.grading.band_floors)


def summary_band(report: SessionReport, settings: Settings, language: Language) -> str:
    return phrase(language, f"band_{_session_band(report, settings)}")


def weak_session(report: SessionReport, settings: Settings) -> bool:
    """The mean is below 良好: the summary may praise nothing (``usable_summary``)."""
    return _session_band(report, settings) in ("fair", "weak")


def summary_opening(report: SessionReport, settings: Settings, language: Language) -> str:
    """The summary's first sentence, the program's: the band word and the mean. The
    1.5B pack, left to judge, called a 2.2 interview "整体表现良好"."""
    return phrase(
        language,
        "summary_opening",
        band=summary_band(report, settings, language),
        mean=_fmt_score(report.mean_score),
    )


def summary_fallback(report: SessionReport, language: Language) -> str:
    """What the program says when the model's sentences are unusable or it is down: the
    best-answered question and the first gap, from the debrief."""
    parts = []
    if report.strengths:
        parts.append(phrase(language, "summary_best", title=report.strengths[0].title))
    if report.gaps:
        gap = report.gaps[0]
        point = gap.point.rstrip("。. ") + ("。" if language == "zh" else ".")
        parts.append(phrase(language, "summary_first_gap", title=gap.title, point=point))
    return "".join(parts)


def summary_sentences(text: str, opening: str, limit: int) -> str:
    """The model's continuation as shown: a repeat of the program's opening dropped (the
    1.5B pack began with it again) and at most ``limit`` whole sentences kept."""
    text = whole_sentences(text.strip())
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if ends and overlap(text[: ends[0]], opening) >= 0.5:
        text, ends = text[ends[0] :].strip(), [e - ends[0] for e in ends[1:]]
    return text[: ends[limit - 1]].strip() if len(ends) > limit else text


def _fmt_score(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def usable_summary(
    text: str, facts: str, language: Language, settings: Settings, *, low: bool
) -> bool:
    """The model's sentences are shown only if they are in the interview's language,
    speak to the candidate (not of "该候选人"), have no number the facts lack (a small
    model invents scores), and (``low``: the mean is below 良好) praise nothing: the
    1.5B pack wrote "对…有深入的理解" of a question the candidate said they did not know."""
    if not text or (language == "zh" and not has_cjk(text)):
        return False
    lowered = text.lower()
    if any(word in lowered for word in phrase_variants(language, "summary_third_person")):
        return False
    if low and any(word in lowered for word in phrase_variants(language, "summary_praise")):
        return False
    known = set(_NUMBER.findall(facts))
    return all(number in known for number in _NUMBER.findall(text))
