"""The history tab: each topic's scores over time, recent interviews, cards due for
review; refreshed by its button and whenever the tab is opened."""

from __future__ import annotations

from typing import Any

import gradio as gr

from coach.interview.charts import progress_figure
from coach.store.history import HistoryBusy
from coach.ui.browse import history_tables
from coach.ui.context import UiContext, lang_of
from coach.ui.services import AppServices
from coach.ui.strings import Lang, t


def history_view(services: AppServices, lang: Lang) -> tuple[Any, Any, Any, str]:
    """The plot, the sessions table, the due table and a status line.

    While another program holds the history database its reads raise HistoryBusy (only
    the reviews read as none, so an interview can go on): the tab keeps what it shows
    and says, in the UI's language, that the history is busy and nothing is lost,
    instead of Gradio's bare "Error". The next refresh shows it again once it is free."""
    try:
        session_rows, due_rows = history_tables(services, lang)
        figure = progress_figure(services.store.topic_progress(), lang)
    except HistoryBusy:
        return (
            gr.update(),
            gr.update(),
            gr.update(),
            t(lang, "notice", text=t(lang, "history_busy")),
        )
    return figure, session_rows, due_rows, ""


def build_history_tab(ctx: UiContext) -> Any:
    lang0, services = ctx.lang0, ctx.services
    with gr.Tab(t(lang0, "tab_history"), id="history") as tab:
        refresh = gr.Button(t(lang0, "history_refresh"), elem_id="history-refresh")
        status = gr.Markdown(elem_id="history-status")
        plot = gr.Plot(label=t(lang0, "history_plot"))
        sessions = gr.Dataframe(interactive=False, label=t(lang0, "history_sessions"))
        due = gr.Dataframe(interactive=False, label=t(lang0, "history_due"))
    words = ctx.translate
    words(tab, "tab_history")
    words(refresh, "history_refresh", "value")
    words(plot, "history_plot")
    words(sessions, "history_sessions")
    words(due, "history_due")

    def on_history(lang_label: str) -> tuple[Any, Any, Any, str]:
        return history_view(services, lang_of(lang_label))

    refresh.click(on_history, [ctx.language], [plot, sessions, due, status])
    tab.select(on_history, [ctx.language], [plot, sessions, due, status])
    return tab
