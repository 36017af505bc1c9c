"""The session report, a debrief: strengths and gaps that quote the candidate, three
ranked actions, per-question scores and signals, topics (skipped questions as skipped,
not as 0), cards to study; as data (``SessionReport``) and as Markdown and HTML.

Every piece of text that came from a candidate, a model or a document is escaped in the
HTML (and in the Markdown, whose viewers render inline HTML): a report is opened in a
browser, and an answer may contain ``<script>``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from coach.common.html import escape, page
from coach.common.plotting import png_base64
from coach.common.text import clip, markdown_cell
from coach.corpus.models import QuestionCard
from coach.grading.models import Takeaway
from coach.interview.charts import SIGNALS, signal_figure
from coach.interview.models import InterviewConfig, Language, Turn
from coach.interview.phrases import phrase
from coach.speech.models import Delivery


class QuestionResult(BaseModel):
    card_id: str
    title: str
    topic: str
    question: str
    outcome: str
    score: float | None = None
    signals: dict[str, float | None] = Field(default_factory=dict)
    """The signals the score is made of (Grade.breakdown)."""
    follow_up_scores: list[float] = Field(default_factory=list)
    missed: list[str] = Field(default_factory=list)
    """The card's points the main answer did not make, less those a follow-up answered."""
    answered_in_follow_up: list[str] = Field(default_factory=list)
    answer: str = ""
    takeaway: Takeaway | None = None
    hints: int = 0
    sources: list[str] = Field(default_factory=list)
    spoken: Delivery | None = None
    """The main answer's recordings (length and pace) when it was spoken."""
    area: str = ""
    """The job's area the question was planned for (an interview for a job)."""
    written: str = ""
    """``generated`` / ``resume``: written for the job's plan, not the bank's."""


class TopicResult(BaseModel):
    topic: str
    mean_score: float | None
    """Over the graded questions; None when every question of the topic was skipped."""
    questions: int
    graded: int = 0


AreaStatus = Literal["ready", "weak", "unanswered", "uncovered", "not_asked"]


class AreaResult(BaseModel):
    """One area of the job: ready (mean at the pass score or above), weak, asked but
    never graded, not covered by the bank, or not asked this time."""

    name: str
    core: bool
    status: AreaStatus
    mean_score: float | None = None
    questions: int = 0
    graded: int = 0


class Highlight(BaseModel):
    """A strength or a gap of the debrief: the candidate's own words and what to say
    about them."""

    title: str
    quote: str
    """The candidate's words."""
    point: str = ""
    """For a gap: the point to add (with what the card says)."""
    also: bool = False
    """The answer took another valid route: the point is what the reference also covers."""


class SessionReport(BaseModel):
    session_id: str
    config: InterviewConfig
    created_at: datetime
    results: list[QuestionResult]
    mean_score: float | None
    weakest_topics: list[TopicResult]
    """Mean main-question score per topic over its graded questions, weakest first;
    topics with every question skipped last (no score, not 0)."""
    study: list[QuestionResult]
    """Cards scored below the pass score, skipped or revealed, weakest first."""
    strengths: list[Highlight] = Field(default_factory=list)
    gaps: list[Highlight] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    """Exactly three, most useful first (``actions``)."""
    job_areas: list[AreaResult] = Field(default_factory=list)
    """An interview for a job: its areas, core first, each with how it went."""
    summary: str = ""
    """The coach's few sentences on the whole interview, written by the model from the
    facts above (empty when the model was down or wrote nothing usable)."""


def build_report(
    turns: Sequence[Turn],
    cards: Mapping[str, QuestionCard],
    *,
    session_id: str,
    config: InterviewConfig,
    created_at: datetime,
    pass_score: float,
) -> SessionReport:
    """The report of a session's ``turns`` (main questions and their follow-ups, in the
    order asked); ``cards`` by id, for each question's sources. Main questions scored
    below ``pass_score`` (or not answered) are the cards to study."""
    results: list[QuestionResult] = []
    current: QuestionResult | None = None
    for turn in turns:
        if turn.kind == "main":
            card = cards[turn.card_id]
            current = QuestionResult(
                card_id=turn.card_id,
                title=turn.title,
                topic=turn.topic,
                question=turn.text,
                outcome=turn.outcome,
                hints=turn.hints,
                sources=[s.ref() for s in card.sources],
                spoken=turn.delivery,
                area=config.job.card_areas.get(turn.card_id, "") if config.job else "",
                written=turn.written,
            )
            if turn.grade is not None:
                current.score = turn.grade.score
                current.signals = turn.grade.breakdown()
                current.missed = turn.grade.missed + turn.grade.partial
                current.answer = turn.answer or ""
                current.takeaway = turn.grade.takeaway
            results.append(current)
        elif current is not None and turn.grade is not None:
            current.follow_up_scores.append(turn.grade.score)
            # graded against the points it probed: those it made are answered now
            made = [p for p in turn.targets if p in turn.grade.covered + turn.grade.partial]
            current.answered_in_follow_up += made
            current.missed = [p for p in current.missed if p not in made]
    effective = [(r, r.score if r.score is not None else 0.0) for r in results]
    by_topic: dict[str, list[float | None]] = defaultdict(list)
    for result in results:
        by_topic[result.topic].append(result.score)
    topics = [
        TopicResult(
            topic=t,
            mean_score=statistics.fmean(g) if (g := [x for x in s if x is not None]) else None,
            questions=len(s),
            graded=len(g),
        )
        for t, s in by_topic.items()
    ]
    weakest = sorted(
        topics,
        key=lambda t: (t.mean_score is None, t.mean_score or 0.0, t.topic),
    )
    study = sorted(
        (r for r, score in effective if score < pass_score),
        key=lambda r: r.score if r.score is not None else -1.0,
    )
    scored = [r.score for r in results if r.score is not None]
    report = SessionReport(
        session_id=session_id,
        config=config,
        created_at=created_at,
        results=results,
        mean_score=statistics.fmean(scored) if scored else None,
        weakest_topics=weakest,
        study=study,
    )
    report.job_areas = job_areas(config, results, pass_score)
    report.strengths, report.gaps = highlights(results, pass_score)
    report.actions = actions(report, config.language)
    return report


def job_areas(
    config: InterviewConfig, results: Sequence[QuestionResult], pass_score: float
) -> list[AreaResult]:
    """The job's areas, core first in the plan's order, each judged on its main
    questions' scores: ready at ``pass_score`` or above, weak below."""
    if config.job is None:
        return []
    out = []
    for area in sorted(config.job.areas, key=lambda a: not a.core):
        asked = [r for r in results if r.area == area.name]
        scores = [r.score for r in asked if r.score is not None]
        mean = statistics.fmean(scores) if scores else None
        status: AreaStatus
        if mean is not None:
            status = "ready" if mean >= pass_score else "weak"
        elif asked:
            status = "unanswered"
        else:
            status = "not_asked" if area.covered else "uncovered"
        out.append(
            AreaResult(
                name=area.name,
                core=area.core,
                status=status,
                mean_score=mean,
                questions=len(asked),
                graded=len(scores),
            )
        )
    return out


def area_line(area: AreaResult, lang: Language) -> str:
    status = phrase(
        lang,
        f"report_area_{area.status}",
        mean=area.mean_score or 0.0,
        graded=area.graded,
        questions=area.questions,
    )
    kind = phrase(lang, "report_area_core" if area.core else "report_area_optional")
    return phrase(lang, "report_job_area", area=area.name, kind=kind, status=status)


def question_label(result: QuestionResult, lang: Language) -> str:
    """The question as the report lists it; a written one says who wrote it."""
    if not result.written:
        return result.question
    return f"{result.question}（{phrase(lang, f'report_written_{result.written}')}）"


HIGHLIGHTS = 2
"""Strengths and gaps the debrief quotes, each."""
QUOTE_CHARS = 60


def _clip(text: str) -> str:
    return clip(" ".join(text.split()), QUOTE_CHARS)


def highlights(
    results: Sequence[QuestionResult], pass_score: float
) -> tuple[list[Highlight], list[Highlight]]:
    """Strengths: the best answers' strongest parts, in their words (answers at the pass
    score or above only: a weak answer's best sentence may be its wrong claim). Gaps:
    the weakest answers, quoted, with the one point to add that no follow-up answered."""
    graded = [r for r in results if r.score is not None and r.takeaway is not None]
    strengths = [
        Highlight(title=r.title, quote=r.takeaway.strength)  # type: ignore[union-attr]
        for r in sorted(graded, key=lambda r: -(r.score or 0.0))
        if (r.score or 0.0) >= pass_score and r.takeaway and r.takeaway.strength
    ][:HIGHLIGHTS]
    gaps = []
    for r in sorted(graded, key=lambda r: r.score or 0.0):
        take = r.takeaway
        if take is None or not take.addition or take.addition in r.answered_in_follow_up:
            continue
        detail = f"「{take.addition}」" + (
            f"：{take.addition_detail}" if take.addition_detail else ""
        )
        gaps.append(Highlight(title=r.title, quote=_clip(r.answer), point=detail, also=take.also))
    return strengths, gaps[:HIGHLIGHTS]


def actions(report: SessionReport, lang: Language) -> list[str]:
    """Exactly three, most useful first: review the weakest card (with what to add and
    where it is written), the habit the grades asked for most often, then the skipped
    questions, the next card to study or another round on the weakest topic."""
    out: list[str] = []
    weakest = next((r for r in report.study if r.score is not None), None)
    if weakest is not None:
        take = weakest.takeaway
        point = take.addition if take and take.addition else "、".join(weakest.missed[:2])
        out.append(
            phrase(
                lang,
                "action_review",
                title=weakest.title,
                point=point or weakest.title,
                source=", ".join(weakest.sources[:1]),
            )
        )
    kinds = [r.takeaway.kind for r in report.results if r.takeaway and r.takeaway.kind]
    if kinds:
        common = max(sorted(set(kinds)), key=kinds.count)
        out.append(phrase(lang, f"action_habit_{HABITS.get(common, 'general')}"))
    skipped = [r for r in report.results if r.score is None]
    if skipped:
        titles = "、".join(f"「{r.title}」" for r in skipped[:3])
        out.append(phrase(lang, "action_skipped", titles=titles, count=len(skipped)))
    for r in report.study:
        if len(out) >= 3:
            break
        if r is not weakest and r.score is not None:
            out.append(
                phrase(
                    lang,
                    "action_review_card",
                    title=r.title,
                    source=", ".join(r.sources[:1]),
                )
            )
    graded_topics = [t for t in report.weakest_topics if t.mean_score is not None]
    if len(out) < 3 and graded_topics:
        out.append(phrase(lang, "action_topic", topic=graded_topics[0].topic))
    while len(out) < 3:
        out.append(phrase(lang, "action_again"))
    return out[:3]


HABITS = {
    "covered_thin": "explain",
    "some": "complete",
    "little": "complete",
    "stuffing": "explain",
    "contradicted": "check",
    "dont_know": "read",
    "empty": "read",
    "off_topic": "focus",
    "injection": "focus",
    "deep": "keep",
    "covered": "keep",
    "covered_beyond": "keep",
}
"""The takeaway's kind -> the habit the debrief suggests (``action_habit_*`` phrases)."""


def _fmt(score: float | None) -> str:
    return "-" if score is None else f"{score:.1f}"


def _md(text: str) -> str:
    """Escape for a Markdown table cell: HTML, pipes and line breaks."""
    return markdown_cell(escape(text, quote=False))


def _rows(report: SessionReport, lang: Language) -> list[list[str]]:
    return [
        [
            str(i),
            question_label(r, lang),
            r.topic,
            _fmt(r.score),
            ", ".join(_fmt(s) for s in r.follow_up_scores),
            phrase(lang, f"outcome_{r.outcome}"),
            "、".join(r.missed),
            _spoken(r.spoken, lang),
        ]
        for i, r in enumerate(report.results, 1)
    ]


def _headers(lang: Language, keys: tuple[str, ...]) -> list[str]:
    return [phrase(lang, f"report_col_{k}") for k in keys]


QUESTION_COLUMNS = (
    "no",
    "question",
    "topic",
    "score",
    "follow_ups",
    "outcome",
    "missed",
    "spoken",
)


def _spoken(delivery: Delivery | None, lang: Language) -> str:
    pace = delivery.pace if delivery else None
    if delivery is None or pace is None:
        return ""
    unit = phrase(lang, "report_pace_zh" if delivery.language == "zh" else "report_pace_words")
    return f"{delivery.seconds:.0f} s, {pace[0]:.0f} {unit}"


SIGNAL_COLUMNS = SIGNALS


def _meta(report: SessionReport, lang: Language) -> list[tuple[str, str]]:
    job = report.config.job
    return [
        *([(phrase(lang, "report_job"), job.title)] if job else []),
        (phrase(lang, "report_started"), report.created_at.strftime("%Y-%m-%d %H:%M")),
        (phrase(lang, "report_topic"), report.config.topic or phrase(lang, "report_all_topics")),
        (phrase(lang, "report_difficulty"), phrase(lang, f"difficulty_{report.config.difficulty}")),
        (phrase(lang, "report_mean"), _fmt(report.mean_score)),
    ]


def _topic(t: TopicResult, lang: Language) -> str:
    if t.mean_score is None:
        return phrase(lang, "report_topic_skipped", questions=t.questions)
    return phrase(
        lang, "report_topic_line", mean=t.mean_score, graded=t.graded, questions=t.questions
    )


def _debrief_lines(report: SessionReport, lang: Language) -> list[tuple[str, list[str]]]:
    """(heading, items) of the debrief, as plain text: actions, strengths, gaps."""
    strengths = [
        phrase(lang, "report_strength", title=h.title, quote=h.quote) for h in report.strengths
    ]
    gaps = [
        phrase(
            lang,
            "report_gap_also" if h.also else "report_gap",
            title=h.title,
            quote=h.quote,
            point=h.point,
        )
        for h in report.gaps
    ]
    summary = [(phrase(lang, "report_summary"), [report.summary])] if report.summary else []
    if report.job_areas:
        areas = [area_line(a, lang) for a in report.job_areas]
        summary.append((phrase(lang, "report_job_areas"), areas))
    return summary + [
        (phrase(lang, "report_actions"), report.actions),
        (phrase(lang, "report_strengths"), strengths or [phrase(lang, "report_nothing")]),
        (phrase(lang, "report_gaps"), gaps or [phrase(lang, "report_nothing")]),
    ]


def to_markdown(report: SessionReport, lang: Language | None = None) -> str:
    lang = lang or report.config.language
    out = [f"# {phrase(lang, 'report_title')}", ""]
    out += [f"- {k}: {_md(v)}" for k, v in _meta(report, lang)]
    for heading, items in _debrief_lines(report, lang):
        out += ["", f"## {heading}", ""]
        numbered = heading == phrase(lang, "report_actions")
        out += [f"{i}. {_md(x)}" if numbered else f"- {_md(x)}" for i, x in enumerate(items, 1)]
    out += ["", f"## {phrase(lang, 'report_questions')}", ""]
    headers = _headers(lang, QUESTION_COLUMNS)
    out += ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in _rows(report, lang)]
    out += ["", f"## {phrase(lang, 'report_subscores')}", ""]
    headers = [phrase(lang, "report_col_no"), *_headers(lang, SIGNAL_COLUMNS)]
    out += ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for i, r in enumerate(report.results, 1):
        if r.signals:
            out.append(
                f"| {i} | " + " | ".join(_fmt(r.signals.get(k)) for k in SIGNAL_COLUMNS) + " |"
            )
    out += ["", f"## {phrase(lang, 'report_weakest')}", ""]
    out += [f"- {_md(t.topic)}: {_topic(t, lang)}" for t in report.weakest_topics]
    out += ["", f"## {phrase(lang, 'report_study')}", ""]
    if not report.study:
        out.append(f"- {phrase(lang, 'report_nothing')}")
    for r in report.study:
        out.append(
            f"- {_md(r.title)} ({_fmt(r.score)}) — {phrase(lang, 'report_sources')}: "
            f"{_md(', '.join(r.sources))}"
        )
    return "\n".join(out) + "\n"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="text">{escape(c)}</td>' for c in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def to_html(report: SessionReport, lang: Language | None = None) -> str:
    lang = lang or report.config.language
    title = phrase(lang, "report_title")
    parts = [
        f"<h1>{escape(title)}</h1><ul>",
        *(f"<li>{escape(k)}: {escape(v)}</li>" for k, v in _meta(report, lang)),
        "</ul>",
    ]
    for heading, items in _debrief_lines(report, lang):
        tag = "ol" if heading == phrase(lang, "report_actions") else "ul"
        parts.append(f"<h2>{escape(heading)}</h2><{tag}>")
        parts += [f"<li>{escape(x)}</li>" for x in items]
        parts.append(f"</{tag}>")
    parts += [
        f"<h2>{escape(phrase(lang, 'report_questions'))}</h2>",
        _table(_headers(lang, QUESTION_COLUMNS), _rows(report, lang)),
        f"<h2>{escape(phrase(lang, 'report_subscores'))}</h2>",
    ]
    graded = [(f"Q{i}", r.signals) for i, r in enumerate(report.results, 1) if r.signals]
    if graded:
        chart = png_base64(signal_figure(graded, lang))
        parts.append(f'<img alt="signals" src="data:image/png;base64,{chart}">')
        parts.append(
            _table(
                [phrase(lang, "report_col_no"), *_headers(lang, SIGNAL_COLUMNS)],
                [[q, *(_fmt(s.get(k)) for k in SIGNAL_COLUMNS)] for q, s in graded],
            )
        )
    parts.append(f"<h2>{escape(phrase(lang, 'report_weakest'))}</h2><ol>")
    parts += [
        f"<li>{escape(t.topic)}: {escape(_topic(t, lang))}</li>" for t in report.weakest_topics
    ]
    parts.append(f"</ol><h2>{escape(phrase(lang, 'report_study'))}</h2><ul>")
    if not report.study:
        parts.append(f"<li>{escape(phrase(lang, 'report_nothing'))}</li>")
    parts += [
        f"<li>{escape(r.title)} ({_fmt(r.score)}) — {escape(phrase(lang, 'report_sources'))}: "
        f"{escape(', '.join(r.sources))}</li>"
        for r in report.study
    ]
    parts.append("</ul>")
    return page(title, "".join(parts), lang=lang)
