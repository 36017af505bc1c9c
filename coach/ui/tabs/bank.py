"""The question-bank tab: search the cards (or list a topic's), show one card, and
edit its anchor answers (what grading compares an answer against); review the cards
``coach generate-cards`` wrote from plain notes: read each beside the section it came
from, edit it, accept it into interviews or reject it."""

from __future__ import annotations

from typing import Any

import gradio as gr

from coach.ui.browse import (
    Outcome,
    accept_all_pending,
    accept_pending,
    card_anchors,
    card_interviewer,
    card_markdown,
    pending_card,
    pending_rows,
    reject_pending,
    save_anchors,
    save_interviewer,
    save_pending,
    search_rows,
)
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
            ctx.topic_fields.append(topic)
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
        with gr.Accordion(t(lang0, "interviewer_title"), open=False) as interviewer_box:
            phrasings = gr.Textbox(
                label=t(lang0, "interviewer_phrasings"), lines=3, elem_id="phrasings"
            )
            probes = gr.Textbox(label=t(lang0, "interviewer_probes"), lines=6, elem_id="probes")
            interviewer_status = gr.Markdown()
            save_interviewer_button = gr.Button(
                t(lang0, "interviewer_save"), elem_id="interviewer-save"
            )
        _review_section(ctx)
    words = ctx.translate
    words(tab, "tab_corpus")
    words(anchors_box, "anchors_title")
    words(full, "anchor_full")
    words(partial, "anchor_partial")
    words(wrong, "anchor_wrong")
    words(save, "anchors_save", "value")
    words(interviewer_box, "interviewer_title")
    words(phrasings, "interviewer_phrasings")
    words(probes, "interviewer_probes")
    words(save_interviewer_button, "interviewer_save", "value")
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
            *card_interviewer(services, card_id, lang),
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
        [detail, selected, full, partial, wrong, anchors_status]
        + [phrasings, probes, interviewer_status],
    )
    save.click(on_save_anchors, [selected, full, partial, wrong, ctx.language], anchors_status)

    def on_save_interviewer(card_id: str, phrasings_text: str, probes_text: str, label: str):
        return save_interviewer(services, card_id, phrasings_text, probes_text, lang_of(label))

    save_interviewer_button.click(
        on_save_interviewer,
        [selected, phrasings, probes, ctx.language],
        interviewer_status,
    )
    return tab


def _review_section(ctx: UiContext) -> None:
    """Generated cards waiting for a person (issue 28): the list, the form, the buttons."""
    lang0, services = ctx.lang0, ctx.services
    words = ctx.translate
    with gr.Accordion(t(lang0, "review_title"), open=False, elem_id="review") as box:
        refresh = gr.Button(t(lang0, "review_refresh"), size="sm", elem_id="review-refresh")
        rows = gr.Dataframe(
            value=lambda: pending_rows(services),
            headers=["#", "topic", "question", "source", "key points", "id"],
            interactive=False,
            label=t(lang0, "review_list"),
            wrap=True,
            elem_id="review-list",
        )
        chosen = gr.State("")
        origin = gr.Markdown(elem_id="review-origin")
        with gr.Row():
            with gr.Column(scale=3):
                question = gr.Textbox(
                    label=t(lang0, "review_question"), lines=2, elem_id="review-question"
                )
                answer = gr.Textbox(
                    label=t(lang0, "review_answer"), lines=5, elem_id="review-answer"
                )
                points = gr.Textbox(
                    label=t(lang0, "review_points"), lines=5, elem_id="review-points"
                )
            source = gr.Textbox(
                label=t(lang0, "review_source"),
                lines=14,
                interactive=False,
                scale=2,
                elem_id="review-source",
            )
        with gr.Row():
            save = gr.Button(t(lang0, "review_save"), elem_id="review-save")
            accept = gr.Button(
                t(lang0, "review_accept"), variant="primary", elem_id="review-accept"
            )
            reject = gr.Button(t(lang0, "review_reject"), variant="stop", elem_id="review-reject")
            accept_all = gr.Button(t(lang0, "review_accept_all"), elem_id="review-accept-all")
        status = gr.Markdown(elem_id="review-status")
    for component, key, attr in (
        (box, "review_title", "label"),
        (refresh, "review_refresh", "value"),
        (rows, "review_list", "label"),
        (question, "review_question", "label"),
        (answer, "review_answer", "label"),
        (points, "review_points", "label"),
        (source, "review_source", "label"),
        (save, "review_save", "value"),
        (accept, "review_accept", "value"),
        (reject, "review_reject", "value"),
        (accept_all, "review_accept_all", "value"),
    ):
        words(component, key, attr)

    def on_select(table: Any, lang_label: str, evt: gr.SelectData):
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        card_id = str(table.iloc[row]["id"] if hasattr(table, "iloc") else table[row][-1])
        q, a, kp, where, text = pending_card(services, card_id, lang_of(lang_label))
        return card_id, q, a, kp, where, text, ""

    def after(outcome: Outcome, lang_label: str) -> tuple[Any, ...]:
        """Done: the list without the card, an empty form, and the topics (an accepted
        card may bring a new one to every topic dropdown). Refused: only the message, so
        what the person typed stays to be put right."""
        if not outcome.done:
            keep = gr.update()
            return (*(keep for _ in range(7)), outcome.message, *(keep for _ in ctx.topic_fields))
        topics = ctx.refresh_topics(lang_of(lang_label))
        return (pending_rows(services), "", "", "", "", "", "", outcome.message, *topics)

    def on_save(card_id: str, q: str, a: str, kp: str, lang_label: str) -> tuple[Any, ...]:
        outcome = save_pending(services, card_id, q, a, kp, lang_of(lang_label))
        return (pending_rows(services) if outcome.done else gr.update()), outcome.message

    def on_accept(card_id: str, q: str, a: str, kp: str, lang_label: str) -> tuple[Any, ...]:
        return after(accept_pending(services, card_id, q, a, kp, lang_of(lang_label)), lang_label)

    def on_reject(card_id: str, lang_label: str) -> tuple[Any, ...]:
        return after(reject_pending(services, card_id, lang_of(lang_label)), lang_label)

    def on_accept_all(lang_label: str) -> tuple[Any, ...]:
        return after(accept_all_pending(services, lang_of(lang_label)), lang_label)

    form = [question, answer, points]
    changed = [rows, chosen, *form, origin, source, status, *ctx.topic_fields]
    refresh.click(lambda: pending_rows(services), None, rows)
    rows.select(on_select, [rows, ctx.language], [chosen, *form, origin, source, status])
    save.click(on_save, [chosen, *form, ctx.language], [rows, status])
    accept.click(on_accept, [chosen, *form, ctx.language], changed)
    reject.click(on_reject, [chosen, ctx.language], changed)
    accept_all.click(on_accept_all, [ctx.language], changed)
