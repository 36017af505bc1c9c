"""The interview tab's logic without Gradio layout: engine events applied to the chat
list, and the finished interview written out as report files.

Why apart from the tab: this is what the tests drive without a browser, and what a
change to the engine's events touches; the tab only decides where it is shown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from coach.config import Settings
from coach.interview.charts import signal_figure
from coach.interview.engine import InterviewEngine
from coach.interview.models import Event
from coach.interview.report import to_html, to_markdown
from coach.ui.render import esc, render_event, render_report_summary
from coach.ui.strings import Lang, t

STREAMED = ("question", "follow_up", "coach", "advice", "stronger", "summary")
Chat = list[dict[str, Any]]


async def stream_into_chat(
    events: AsyncIterator[Event], engine: InterviewEngine, lang: Lang, chat: Chat
) -> AsyncIterator[tuple[Chat, bool, bool]]:
    """Apply engine events to the chat; yields (chat, graded, finished) after each.

    Streamed messages are updated in place; the 'grading…' placeholder is replaced by
    the rubric's provisional grade, then by the final grade (or the error)."""
    live: dict[str, int] = {}
    asked: dict[tuple[str, int | None], int] = {}
    placeholder: int | None = None
    graded = finished = False
    async for event in events:
        content = render_event(event, lang, engine.settings)
        if event.revised and (event.kind, event.turn) in asked:
            chat[asked[(event.kind, event.turn)]]["content"] = content  # the model's phrasing
        elif event.kind in STREAMED and event.kind in live:
            chat[live[event.kind]]["content"] = content
            if event.done:
                del live[event.kind]
        elif event.kind in ("grade", "error") and placeholder is not None:
            chat[placeholder]["content"] = content
            if event.done:  # a provisional grade keeps its place for the final one
                placeholder = None
        else:
            chat.append({"role": "assistant", "content": content})
            if event.kind in STREAMED and not event.done:
                live[event.kind] = len(chat) - 1
            if event.kind == "grading":
                placeholder = len(chat) - 1
            if event.kind in ("question", "follow_up"):
                asked[(event.kind, event.turn)] = len(chat) - 1
        for text in _store_notices(engine):  # e.g. the answer kept while the history was busy
            chat.append({"role": "assistant", "content": t(lang, "notice", text=esc(text))})
        graded = graded or event.kind == "grade"
        if event.kind == "report":
            finished = True
            chat[-1]["content"] = render_report_summary(engine.report(), lang)
        yield chat, graded, finished


def _store_notices(engine: InterviewEngine) -> list[str]:
    take = getattr(engine.services.store, "take_notices", None)
    return take() if take is not None else []


def write_report(engine: InterviewEngine, settings: Settings, lang: Lang) -> tuple[list[str], Any]:
    """The report as Markdown and HTML files (paths for download) and the sub-score plot
    (None when nothing was graded)."""
    report = engine.report()
    folder = settings.paths.interview_reports_dir
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"interview-{report.created_at:%Y%m%d-%H%M}-{engine.session_id[:8]}"
    md, html = stem.with_suffix(".md"), stem.with_suffix(".html")
    md.write_text(to_markdown(report, lang), "utf-8")
    html.write_text(to_html(report, lang), "utf-8")
    graded = [(f"Q{i}", r.signals) for i, r in enumerate(report.results, 1) if r.signals]
    return [str(md), str(html)], signal_figure(graded, lang) if graded else None
