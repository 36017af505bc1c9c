"""The Gradio Blocks app: mock interview (streamed), batch grading, question bank, history.

Each tab is its own module under ``coach.ui.tabs``; this one only puts the title and the
language switch above them. Each browser session keeps its own ``InterviewEngine`` in a
``gr.State``; what the sessions share (models, cards, the history store) lives in
``AppServices``. All text that a candidate, a document or a model produced is escaped
before it is rendered.
"""

from __future__ import annotations

import gradio as gr

from coach.config import Settings
from coach.interview.selection import topics_of
from coach.ui.context import UiContext
from coach.ui.services import AppServices, NotReady
from coach.ui.strings import LANGUAGES, Lang, t
from coach.ui.tabs.bank import build_bank_tab
from coach.ui.tabs.batch import build_batch_tab
from coach.ui.tabs.history import build_history_tab
from coach.ui.tabs.interview import build_interview_tab


def _topics(services: AppServices) -> list[str]:
    """The cards' topics; none yet without an index (the tabs say what to run)."""
    try:
        return topics_of(services.cards)
    except NotReady:
        return []


def build_app(settings: Settings, services: AppServices | None = None) -> gr.Blocks:
    if services is None:  # the app's own services: load them while the page opens
        services = AppServices(settings)
        if settings.ui.warm_up:
            services.warm_up()
    lang0: Lang = settings.ui.language
    topics = _topics(services)
    with gr.Blocks(title="coach") as app:
        title = gr.Markdown(t(lang0, "title"))
        language = gr.Radio(
            list(LANGUAGES),
            value=next(k for k, v in LANGUAGES.items() if v == lang0),
            label="界面语言 / Language",
            elem_id="language",
        )
        ctx = UiContext(settings, services, language, lang0, topics)
        ctx.translate(title, "title", "value")
        build_interview_tab(ctx)
        build_batch_tab(ctx)
        build_bank_tab(ctx)
        build_history_tab(ctx)
        language.change(ctx.translate.on_language, [language], ctx.translate.components)
    return app
