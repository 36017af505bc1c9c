"""The HTML report of a batch: summary, score distribution, per-topic averages, rows.

One self-contained file (plots are PNGs embedded as base64) so it can be mailed or
opened offline. Every piece of text is escaped: questions, answers and feedback are
user data and may contain markup.
"""

from __future__ import annotations

import base64
import contextlib
import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from html import escape

from matplotlib import font_manager
from matplotlib.figure import Figure

from coach.batch.models import BatchResult, BatchRow

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)
"""Fonts that draw Chinese topic names in plots; without one, plots label topics T1, T2...
and the table beside the plot names them (the browser renders the HTML text)."""
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
_STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
vertical-align:top;text-align:left}th{background:#f3f3f3}.error{color:#b00}.num{text-align:right}
.plots{display:flex;flex-wrap:wrap;gap:2em}.text{max-width:28em;white-space:pre-wrap}
"""


def e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _listed_cjk_font() -> str | None:
    available = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in available), None)


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first of CJK_FONTS that matplotlib can use, or None.

    Matplotlib scans the system's fonts once and caches the list on disk
    (``~/.cache/matplotlib``), so a font installed later (``make install`` adds Debian's
    fonts-noto-cjk) is not in it. When no CJK font is listed, the font files the list
    lacks are added for this process before giving up; once per process (cached)."""
    found = _listed_cjk_font()
    if found is None:
        known = {f.fname for f in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known:
                with contextlib.suppress(Exception):  # an unreadable file: skip it
                    font_manager.fontManager.addfont(path)
        found = _listed_cjk_font()
    return found


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def score_histogram(scores: list[float]) -> str:
    fig = Figure(figsize=(5.5, 3.2))
    ax = fig.subplots()
    ax.hist(scores, bins=SCORE_BINS, color="#4c78a8", edgecolor="white")
    ax.set_xlabel("score")
    ax.set_ylabel("answers")
    ax.set_title(f"Score distribution (n={len(scores)})")
    ax.set_xticks(SCORE_BINS)
    return _png(fig)


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
    return _png(fig)


def topic_means(results: list[BatchResult]) -> list[tuple[str, int, float]]:
    """(topic, answers, mean score) for graded rows, best-covered topics first."""
    by_topic: dict[str, list[float]] = defaultdict(list)
    for r in results:
        if r.score is not None:
            by_topic[r.topic or "?"].append(r.score)
    rows = [(t, len(s), statistics.fmean(s)) for t, s in by_topic.items()]
    return sorted(rows, key=lambda x: (-x[1], x[0]))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


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
        "<!doctype html><html lang='zh'><head><meta charset='utf-8'>",
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>Generated {e(datetime.now().isoformat(timespec='seconds'))}</p>",
        "<h2>Summary</h2><table>",
        *(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in summary.items()),
        "</table>",
    ]
    if flags:
        parts.append("<h3>Flags</h3><table><tr><th>flag</th><th>rows</th></tr>")
        parts += [
            f"<tr><td>{e(f)}</td><td class='num'>{n}</td></tr>" for f, n in flags.most_common()
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
            f"<tr><td>{e(label(i, t))}</td><td>{e(t)}</td><td class='num'>{n}</td>"
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
            (_cut(row.question, text_chars), "text"),
            (_cut(row.answer, text_chars), "text"),
            ("; ".join(result.missed), "text"),
            (_cut(result.feedback, text_chars), "text"),
        )
        parts.append("<tr>" + "".join(f"<td class='{c}'>{e(v)}</td>" for v, c in cells) + "</tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts)


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
