"""Engine events -> chat messages (Markdown). Everything dynamic is escaped here.

Why escape and not only trust Gradio's sanitiser: a candidate's ``<script>`` or
``<img onerror>`` must show as the text they typed, not be dropped or run, and model
output may echo the candidate's text. ``esc`` turns ``<``, ``>`` and ``&`` into entities,
which Markdown renders back as the literal characters.
"""

from __future__ import annotations

from collections.abc import Mapping

from coach.common.html import escape
from coach.config import Settings
from coach.config.grading import GradingSettings
from coach.config.voice import VoiceSettings
from coach.grading.explain import band
from coach.grading.flags import GradeFlag
from coach.grading.models import Grade
from coach.interview.models import Event
from coach.interview.report import SessionReport, area_line
from coach.speech.models import Delivery
from coach.ui.strings import Lang, t


def esc(text: str) -> str:
    return escape(text, quote=False)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def pace_unit(delivery: Delivery, lang: Lang) -> str:
    return t(lang, "pace_unit_zh" if delivery.language == "zh" else "pace_unit_words")


def render_delivery(delivery: Delivery, voice: VoiceSettings, lang: Lang) -> str:
    """The spoken answer's length and pace, and whether an interviewer could follow it."""
    pace = delivery.pace
    if pace is None:
        return t(lang, "delivery_silent", seconds=delivery.seconds)
    slow, fast = voice.pace_bounds(delivery.language)
    verdict = delivery.verdict(slow, fast)
    unit = pace_unit(delivery, lang)
    return t(
        lang,
        f"delivery_{verdict}",
        seconds=delivery.seconds,
        pace=pace[0],
        unit=unit,
        slow=slow,
        fast=fast,
    )


def render_takeaway(grade: Grade, lang: Lang, floors: Mapping[str, float]) -> list[str]:
    """What a candidate reads first: the score with its band word and why, the
    strongest part of the answer quoted, the one addition that matters most."""
    level = band(grade.score, floors)
    head = t(lang, "score_band", score=_fmt(grade.score), band=t(lang, f"band_{level}"))
    take = grade.takeaway
    lines = [f"{head}　{esc(take.why)}" if take.why else head]
    # a "strongest part" of a weak answer would praise what may be its wrong claim
    if take.strength and level != "weak":
        lines.append(t(lang, "strength", quote=esc(take.strength)))
    if take.addition:
        detail = (
            t(lang, "addition_detail", text=esc(take.addition_detail))
            if take.addition_detail
            else ""
        )
        key = "correction" if take.correct else "also_covers" if take.also else "addition"
        lines.append(t(lang, key, label=esc(take.addition), detail=detail))
    return lines


def render_signals(grade: Grade, lang: Lang) -> list[str]:
    """The signals the score is made of and the per-point evidence (folded away)."""
    lines = [t(lang, "signals", evidence=_fmt(grade.evidence), depth=_fmt(grade.depth))]
    if grade.evidence is not None or grade.confidence is not None:
        confidence = "-" if grade.confidence is None else f"{grade.confidence:.0%}"
        line = t(lang, "evidence_line", evidence=_fmt(grade.evidence), confidence=confidence)
        if grade.llm_score is not None:
            line += t(lang, "llm_score_part", score=_fmt(grade.llm_score))
        lines.append(line)
    for key, points in (
        ("covered", grade.covered),
        ("partial", grade.partial),
        ("missed", grade.missed),
    ):
        if points:
            lines.append(t(lang, key, points=esc("、".join(points))))
    supported = [p for p in grade.points if p.status != "missed" and p.evidence]
    if supported:
        lines.append(
            "\n".join(
                t(
                    lang,
                    "point_evidence",
                    label=esc(p.label),
                    strength=f"{max(p.coverage, p.similarity):.0%}",
                    sentence=esc(p.evidence),
                )
                for p in supported
            )
        )
    if grade.feedback:
        lines.append(t(lang, "feedback", text=esc(grade.feedback)))
    return lines


def render_grade(
    grade: Grade,
    lang: Lang,
    *,
    final: bool = True,
    delivery: str | None = None,
    floors: Mapping[str, float] | None = None,
) -> str:
    """``final=False``: the rubric's grade shown while the model reviews the answer.
    ``delivery``: the spoken answer's line (``render_delivery``), after the takeaway.
    ``floors``: the band words' lowest scores (``grading.band_floors``)."""
    if floors is None:
        floors = GradingSettings().band_floors
    lines = render_takeaway(grade, lang, floors)
    if delivery:
        lines.append(delivery)
    if GradeFlag.LLM_UNAVAILABLE in grade.flags:
        lines.append(t(lang, "graded_by_rubric"))
    if GradeFlag.WRITTEN_REFERENCE in grade.flags:
        lines.append(t(lang, "graded_written"))
    if not final:
        lines.append(t(lang, "judge_reviewing"))
    body = "\n\n".join(render_signals(grade, lang))
    lines.append(f"<details><summary>{t(lang, 'grade_details')}</summary>\n\n{body}\n\n</details>")
    return "\n\n".join(lines)


def render_event(event: Event, lang: Lang, settings: Settings) -> str:
    """The chat message for one event (for streamed events: the text so far). Everything
    shown comes with the event (its number, topic, a spoken answer's delivery), so the
    UI needs none of the engine's state."""
    kind = event.kind
    if kind == "question":
        label = t(
            lang,
            "question_label",
            n=event.number or 1,
            total=event.total or 1,
            topic=esc(event.topic),
        )
        if event.written:
            label += " " + t(lang, f"written_{event.written}")
        return f"{label}\n\n{esc(event.text)}"
    if kind == "follow_up":
        return f"{t(lang, 'follow_up_label')}\n\n{esc(event.text)}"
    if kind == "grading":
        return t(lang, "grading")
    if kind == "grade" and event.grade is not None:
        spoken = event.delivery
        delivery = render_delivery(spoken, settings.voice, lang) if spoken else None
        floors = settings.grading.band_floors
        return render_grade(event.grade, lang, final=event.done, delivery=delivery, floors=floors)
    if kind == "reference":
        body = f"{t(lang, 'reference')}\n\n{esc(event.text)}"
        return body + "\n\n" + t(lang, "sources", sources=esc(", ".join(event.sources)))
    if kind == "coach":
        body = f"{t(lang, 'coach_label')}\n\n{esc(event.text)}"
        if event.done and event.sources:
            cited = ", ".join(f"[{i}] {s}" for i, s in enumerate(event.sources, 1))
            body += "\n\n" + t(lang, "sources", sources=esc(cited))
        return body
    if kind == "advice":
        if not event.done:
            return f"{t(lang, 'advice_label')}\n\n{esc(event.text) or t(lang, 'advice_writing')}"
        body = esc(event.text) or t(lang, "advice_unavailable")
        return f"{t(lang, 'advice_label')}\n\n{body}"
    if kind == "stronger":
        body = f"{t(lang, 'stronger_label')}\n\n{esc(event.text)}"
        if event.done and event.text and event.sources:
            cited = ", ".join(f"[{i}] {s}" for i, s in enumerate(event.sources, 1))
            body += "\n\n" + t(lang, "sources", sources=esc(cited))
        if event.done and not event.text:
            body += t(lang, "advice_unavailable")
        return body
    if kind == "summary":
        return f"{t(lang, 'summary_label')}\n\n{esc(event.text) or t(lang, 'advice_writing')}"
    if kind == "notice":
        return t(lang, "notice", text=esc(event.text))
    if kind == "error":
        return t(lang, "error", text=esc(event.text))
    return esc(event.text)


def render_report_summary(report: SessionReport, lang: Lang) -> str:
    """The debrief in the chat: the mean, the weakest graded topics, the three actions,
    then strengths and gaps that quote the candidate."""
    graded = [w for w in report.weakest_topics if w.mean_score is not None]
    weakest = "、".join(f"{w.topic} ({w.mean_score:.1f})" for w in graded[:3])
    lines = [
        t(
            lang,
            "report_done",
            mean=_fmt(report.mean_score),
            weakest=esc(weakest or t(lang, "none")),
        )
    ]
    if report.job_areas:
        areas = "\n".join(f"- {esc(area_line(a, lang))}" for a in report.job_areas)
        lines.append(f"**{t(lang, 'debrief_job_areas')}**\n\n{areas}")
    sections = [
        ("debrief_actions", [f"{i}. {esc(a)}" for i, a in enumerate(report.actions, 1)]),
        (
            "debrief_strengths",
            [
                t(lang, "debrief_strength_item", title=esc(h.title), quote=esc(h.quote))
                for h in report.strengths
            ],
        ),
        (
            "debrief_gaps",
            [
                t(
                    lang,
                    "debrief_gap_also_item" if h.also else "debrief_gap_item",
                    title=esc(h.title),
                    quote=esc(h.quote),
                    point=esc(h.point),
                )
                for h in report.gaps
            ],
        ),
    ]
    for key, items in sections:
        if items:
            lines.append(f"**{t(lang, key)}**\n\n" + "\n".join(items))
    return "\n\n".join(lines)
