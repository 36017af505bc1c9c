"""The question-bank tab: search the cards (or list a topic's), show one card, and
edit its anchor answers (what grading compares an answer against)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from coach.ui.browse import card_anchors, card_markdown, save_anchors, search_rows
from coach.ui.context import ALL, UiContext, lang_of
from coach.ui.strings import t


def build_bank_tab(ctx: UiContext) -> Any:
    lang0, services = ctx.lang0, ctx.services
    with gr.Tab(t(lang0, "tab_corpus"), id="corpus") as tab:
        with gr.Row():
            query = gr.Textbox(
                label=t(lang0, "search"),
                placeholder=t(lang0, "search_placeholder"),
                scale=4,
                elem_id="search",
            )
            topic = gr.Dropdown(
                ctx.topic_choices(lang0), value=ALL, label=t(lang0, "topic"), scale=1
            )
            search = gr.Button(t(lang0, "search_button"), scale=1, elem_id="search-btn")
        results = gr.Dataframe(
            headers=["#", "topic", "title", "source", "score", "id"],
            interactive=False,
            label=t(lang0, "search_results"),
            wrap=True,
        )
        detail = gr.Markdown()
        selected = gr.State("")
        with gr.Accordion(t(lang0, "anchors_title"), open=False) as anchors_box:
            full = gr.Textbox(label=t(lang0, "anchor_full"), lines=3)
            partial = gr.Textbox(label=t(lang0, "anchor_partial"), lines=3)
            wrong = gr.Textbox(label=t(lang0, "anchor_wrong"), lines=3)
            anchors_status = gr.Markdown()
            save = gr.Button(t(lang0, "anchors_save"), elem_id="anchors-save")
    words = ctx.translate
    words(tab, "tab_corpus")
    words(anchors_box, "anchors_title")
    words(full, "anchor_full")
    words(partial, "anchor_partial")
    words(wrong, "anchor_wrong")
    words(save, "anchors_save", "value")
    words(query, "search")
    words(topic, "topic")
    words(search, "search_button", "value")
    words(results, "search_results")
    words.extra(topic, lambda lang: {"choices": ctx.topic_choices(lang)})
    words.extra(query, lambda lang: {"placeholder": t(lang, "search_placeholder")})

    def on_search(text: str, topic_value: str):
        return search_rows(services, text, None if topic_value == ALL else topic_value)

    def on_select(rows: Any, lang_label: str, evt: gr.SelectData):
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        card_id = str(rows.iloc[row]["id"] if hasattr(rows, "iloc") else rows[row][-1])
        lang = lang_of(lang_label)
        return (
            card_markdown(services, card_id, lang),
            card_id,
            *card_anchors(services, card_id, lang),
        )

    def on_save_anchors(
        card_id: str, full_text: str, partial_text: str, wrong_text: str, lang_label: str
    ):
        lang = lang_of(lang_label)
        return save_anchors(services, card_id, full_text, partial_text, wrong_text, lang)

    search.click(on_search, [query, topic], results)
    query.submit(on_search, [query, topic], results)
    results.select(
        on_select,
        [results, ctx.language],
        [detail, selected, full, partial, wrong, anchors_status],
    )
    save.click(on_save_anchors, [selected, full, partial, wrong, ctx.language], anchors_status)
    return tab
