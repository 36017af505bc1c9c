"""The session report: per-question scores, sub-scores, weakest topics, cards to study;
as data (``SessionReport``) and as downloadable Markdown and HTML.

Every piece of text that came from a candidate, a model or a document is escaped in the
HTML (and in the Markdown, whose viewers render inline HTML): a report is opened in a
browser, and an answer may contain ``<script>``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel, Field

from coach.common.html import escape, page
from coach.common.plotting import png_base64
from coach.common.text import markdown_cell
from coach.corpus.models import QuestionCard
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
    hints: int = 0
    sources: list[str] = Field(default_factory=list)
    spoken: Delivery | None = None
    """The main answer's recordings (length and pace) when it was spoken."""


class TopicResult(BaseModel):
    topic: str
    mean_score: float
    questions: int


class SessionReport(BaseModel):
    session_id: str
    config: InterviewConfig
    created_at: datetime
    results: list[QuestionResult]
    mean_score: float | None
    weakest_topics: list[TopicResult]
    """Mean main-question score per topic, weakest first (skips count as 0)."""
    study: list[QuestionResult]
    """Cards scored below the pass score, skipped or revealed, weakest first."""


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
            )
            if turn.grade is not None:
                current.score = turn.grade.score
                current.signals = turn.grade.breakdown()
                current.missed = turn.grade.missed + turn.grade.partial
            results.append(current)
        elif current is not None and turn.grade is not None:
            current.follow_up_scores.append(turn.grade.score)
    effective = [(r, r.score if r.score is not None else 0.0) for r in results]
    by_topic: dict[str, list[float]] = defaultdict(list)
    for result, score in effective:
        by_topic[result.topic].append(score)
    weakest = sorted(
        (
            TopicResult(topic=t, mean_score=statistics.fmean(s), questions=len(s))
            for t, s in by_topic.items()
        ),
        key=lambda t: (t.mean_score, t.topic),
    )
    study = sorted(
        (r for r, score in effective if score < pass_score),
        key=lambda r: r.score if r.score is not None else -1.0,
    )
    scored = [r.score for r in results if r.score is not None]
    return SessionReport(
        session_id=session_id,
        config=config,
        created_at=created_at,
        results=results,
        mean_score=statistics.fmean(scored) if scored else None,
        weakest_topics=weakest,
        study=study,
    )


def _fmt(score: float | None) -> str:
    return "-" if score is None else f"{score:.1f}"


def _md(text: str) -> str:
    """Escape for a Markdown table cell: HTML, pipes and line breaks."""
    return markdown_cell(escape(text, quote=False))


def _rows(report: SessionReport, lang: Language) -> list[list[str]]:
    return [
        [
            str(i),
            r.question,
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
    return [
        (phrase(lang, "report_started"), report.created_at.strftime("%Y-%m-%d %H:%M")),
        (phrase(lang, "report_topic"), report.config.topic or phrase(lang, "report_all_topics")),
        (phrase(lang, "report_difficulty"), phrase(lang, f"difficulty_{report.config.difficulty}")),
        (phrase(lang, "report_mean"), _fmt(report.mean_score)),
    ]


def to_markdown(report: SessionReport, lang: Language | None = None) -> str:
    lang = lang or report.config.language
    out = [f"# {phrase(lang, 'report_title')}", ""]
    out += [f"- {k}: {_md(v)}" for k, v in _meta(report, lang)]
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
    out += [f"- {_md(t.topic)}: {t.mean_score:.1f} ({t.questions})" for t in report.weakest_topics]
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
        f"</ul><h2>{escape(phrase(lang, 'report_questions'))}</h2>",
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
        f"<li>{escape(t.topic)}: {t.mean_score:.1f} ({t.questions})</li>"
        for t in report.weakest_topics
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
