"""The HTML report of a batch: summary, score distribution, per-topic averages, rows.

One self-contained file (plots are PNGs embedded as base64) so it can be mailed or
opened offline. Every piece of text is escaped: questions, answers and feedback are
user data and may contain markup.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import datetime

from matplotlib.figure import Figure

from coach.batch.models import BatchResult, BatchRow
from coach.common.html import escape, page
from coach.common.plotting import cjk_font, png_base64
from coach.common.text import clip

SCORE_BINS = list(range(0, 11))
ROW_HEADERS = (
    "id",
    "topic",
    "score",
    "confidence",
    "evidence",
    "status",
    "flags",
    "question",
    "answer",
    "missed",
    "feedback",
)
_CSS = ".text{max-width:28em}"
"""The batch table has more columns than the interview report's: narrower text cells."""


def score_histogram(scores: list[float]) -> str:
    fig = Figure(figsize=(5.5, 3.2))
    ax = fig.subplots()
    ax.hist(scores, bins=SCORE_BINS, color="#4c78a8", edgecolor="white")
    ax.set_xlabel("score")
    ax.set_ylabel("answers")
    ax.set_title(f"Score distribution (n={len(scores)})")
    ax.set_xticks(SCORE_BINS)
    return png_base64(fig)


def topic_chart(labels: list[str], means: list[float]) -> str:
    font = cjk_font()
    shown = labels if font else [f"T{i}" for i in range(1, len(labels) + 1)]
    fig = Figure(figsize=(5.5, 0.5 + 0.4 * max(len(labels), 1)))
    ax = fig.subplots()
    bars = ax.barh(range(len(means)), means, color="#f58518")
    ax.bar_label(bars, fmt="%.1f", padding=3)
    ax.set_yticks(range(len(means)), shown, fontfamily=font or "sans-serif")
    ax.invert_yaxis()
    ax.set_xlim(0, 10)
    ax.set_xlabel("mean score")
    ax.set_title("Mean score per topic")
    return png_base64(fig)


def topic_means(results: list[BatchResult]) -> list[tuple[str, int, float]]:
    """(topic, answers, mean score) for graded rows, best-covered topics first."""
    by_topic: dict[str, list[float]] = defaultdict(list)
    for r in results:
        if r.score is not None:
            by_topic[r.topic or "?"].append(r.score)
    rows = [(t, len(s), statistics.fmean(s)) for t, s in by_topic.items()]
    return sorted(rows, key=lambda x: (-x[1], x[0]))


def render_report(
    rows: list[BatchRow],
    results: list[BatchResult],
    summary: Mapping[str, object],
    *,
    title: str,
    text_chars: int,
) -> str:
    """The whole report as one HTML string; ``rows`` and ``results`` are in input order."""
    scores = [r.score for r in results if r.score is not None]
    topics = topic_means(results)
    flags = Counter(f for r in results for f in r.flags)
    parts = [
        f"<h1>{escape(title)}</h1>",
        f"<p>Generated {escape(datetime.now().isoformat(timespec='seconds'))}</p>",
        "<h2>Summary</h2><table>",
        *(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in summary.items()),
        "</table>",
    ]
    if flags:
        parts.append("<h3>Flags</h3><table><tr><th>flag</th><th>rows</th></tr>")
        parts += [
            f"<tr><td>{escape(f)}</td><td class='num'>{n}</td></tr>" for f, n in flags.most_common()
        ]
        parts.append("</table>")
    parts.append("<h2>Scores</h2><div class='plots'>")
    if scores:
        parts.append(
            f"<img alt='score distribution' src='data:image/png;base64,{score_histogram(scores)}'>"
        )
    if topics:
        chart = topic_chart([t for t, _, _ in topics], [m for _, _, m in topics])
        parts.append(f"<img alt='mean score per topic' src='data:image/png;base64,{chart}'>")
        label = (lambda i, t: t) if cjk_font() else (lambda i, t: f"T{i}")
        parts.append("<table><tr><th>plot</th><th>topic</th><th>answers</th><th>mean</th></tr>")
        parts += [
            f"<tr><td>{escape(label(i, t))}</td><td>{escape(t)}</td><td class='num'>{n}</td>"
            f"<td class='num'>{m:.2f}</td></tr>"
            for i, (t, n, m) in enumerate(topics, start=1)
        ]
        parts.append("</table>")
    if not scores:
        parts.append("<p>No row was graded.</p>")
    parts.append("</div><h2>Rows</h2><table><tr>")
    parts += [f"<th>{h}</th>" for h in ROW_HEADERS]
    parts.append("</tr>")
    for row, result in zip(rows, results, strict=True):
        score = "" if result.score is None else f"{result.score:.1f}"
        status = result.status if not result.error else f"{result.status}: {result.error}"
        cells = (
            (result.id, ""),
            (result.topic, ""),
            (score, "num"),
            ("" if result.confidence is None else f"{result.confidence:.2f}", "num"),
            (_evidence_text(result), "text"),
            (status, "error" if result.status == "error" else ""),
            (", ".join(result.flags), ""),
            (clip(row.question, text_chars), "text"),
            (clip(row.answer, text_chars), "text"),
            ("; ".join(result.missed), "text"),
            (clip(result.feedback, text_chars), "text"),
        )
        tds = "".join(f"<td class='{c}'>{escape(v)}</td>" for v, c in cells)
        parts.append(f"<tr>{tds}</tr>")
    parts.append("</table>")
    return page(title, "\n".join(parts), lang="zh", css=_CSS)


def _evidence_text(result: BatchResult) -> str:
    """The evidence score and, per supported key point, the answer's sentence."""
    if result.evidence is None:
        return ""
    lines = [f"{result.evidence:.1f}/10"]
    lines += [
        f"{p.label} ({max(p.coverage, p.similarity):.0%}): {p.evidence}"
        for p in result.points
        if p.status != "missed" and p.evidence
    ]
    return "\n".join(lines)
