"""The history tab: each topic's scores over time, recent interviews, cards due for
review; refreshed by its button and whenever the tab is opened."""

from __future__ import annotations

from typing import Any

import gradio as gr

from coach.interview.charts import progress_figure
from coach.ui.browse import history_tables
from coach.ui.context import UiContext, lang_of
from coach.ui.strings import t


def build_history_tab(ctx: UiContext) -> Any:
    lang0, services = ctx.lang0, ctx.services
    with gr.Tab(t(lang0, "tab_history"), id="history") as tab:
        refresh = gr.Button(t(lang0, "history_refresh"), elem_id="history-refresh")
        plot = gr.Plot(label=t(lang0, "history_plot"))
        sessions = gr.Dataframe(interactive=False, label=t(lang0, "history_sessions"))
        due = gr.Dataframe(interactive=False, label=t(lang0, "history_due"))
    words = ctx.translate
    words(tab, "tab_history")
    words(refresh, "history_refresh", "value")
    words(plot, "history_plot")
    words(sessions, "history_sessions")
    words(due, "history_due")

    def on_history(lang_label: str):
        lang = lang_of(lang_label)
        session_rows, due_rows = history_tables(services, lang)
        return progress_figure(services.store.topic_progress(), lang), session_rows, due_rows

    refresh.click(on_history, [ctx.language], [plot, sessions, due])
    tab.select(on_history, [ctx.language], [plot, sessions, due])
    return tab
