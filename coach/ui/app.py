"""The Gradio Blocks app: mock interview (streamed), batch grading, question bank, history.

Each browser session keeps its own ``InterviewEngine`` in a ``gr.State``; what the
sessions share (models, cards, the history store) lives in ``AppServices``. All text
that a candidate, a document or a model produced is escaped before it is rendered.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import gradio as gr

from coach.config import Settings
from coach.interview.charts import progress_figure, subscore_figure
from coach.interview.engine import InterviewEngine
from coach.interview.models import Event, InterviewConfig
from coach.interview.report import to_html, to_markdown
from coach.interview.selection import topics_of
from coach.ui.render import esc, render_event, render_report_summary
from coach.ui.services import AppServices, NotReady
from coach.ui.strings import LANGUAGES, Lang, t

ALL = "__all__"
DIFFICULTIES = ("any", "easy", "medium", "hard")
STREAMED = ("question", "follow_up", "coach")
Chat = list[dict[str, Any]]


def _lang(value: str | None) -> Lang:
    return LANGUAGES.get(value or "", value if value in ("zh", "en") else "zh")  # type: ignore[return-value]


class Relabel:
    """Components whose words change with the language: (component, attribute, key)."""

    def __init__(self) -> None:
        self.items: dict[Any, dict[str, str]] = {}

    def __call__(self, component: Any, key: str, attr: str = "label") -> Any:
        self.items.setdefault(component, {})[attr] = key
        return component

    def updates(self, lang: Lang, extra: dict[Any, dict[str, Any]]) -> list[Any]:
        """One update per component: its translated words plus ``extra`` (choices...)."""
        return [
            gr.update(**{attr: t(lang, key) for attr, key in attrs.items()}, **extra.get(c, {}))
            for c, attrs in self.items.items()
        ]

    @property
    def components(self) -> list[Any]:
        return list(self.items)


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
        content = render_event(event, engine, lang)
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
        graded = graded or event.kind == "grade"
        if event.kind == "report":
            finished = True
            chat[-1]["content"] = render_report_summary(engine.report(), lang)
        yield chat, graded, finished


def write_report(engine: InterviewEngine, settings: Settings, lang: Lang) -> tuple[list[str], Any]:
    report = engine.report()
    folder = settings.data_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"interview-{report.created_at:%Y%m%d-%H%M}-{engine.session_id[:8]}"
    md, html = stem.with_suffix(".md"), stem.with_suffix(".html")
    md.write_text(to_markdown(report, lang), "utf-8")
    html.write_text(to_html(report, lang), "utf-8")
    graded = [(f"Q{i}", r.sub_scores) for i, r in enumerate(report.results, 1) if r.sub_scores]
    return [str(md), str(html)], subscore_figure(graded) if graded else None


def build_app(settings: Settings, services: AppServices | None = None) -> gr.Blocks:
    services = services or AppServices(settings)
    lang0: Lang = settings.ui_language
    relabel = Relabel()
    try:
        topics = topics_of(services.cards)
    except NotReady:
        topics = []

    def topic_choices(lang: Lang) -> list[tuple[str, str]]:
        return [(t(lang, "all_topics"), ALL), *((name, name) for name in topics)]

    def difficulty_choices(lang: Lang) -> list[tuple[str, str]]:
        return [(t(lang, f"difficulty_{d}"), d) for d in DIFFICULTIES]

    with gr.Blocks(title="coach") as app:
        relabel(gr.Markdown(t(lang0, "title")), "title", "value")
        language = gr.Radio(
            list(LANGUAGES),
            value=next(k for k, v in LANGUAGES.items() if v == lang0),
            label="界面语言 / Language",
            elem_id="language",
        )
        engine_state = gr.State(None)

        # --- interview -------------------------------------------------------------
        with gr.Tab(t(lang0, "tab_interview"), id="interview") as tab_interview:
            with gr.Row():
                topic = gr.Dropdown(topic_choices(lang0), value=ALL, label=t(lang0, "topic"))
                count = gr.Slider(
                    1,
                    settings.interview_max_questions,
                    value=settings.interview_questions,
                    step=1,
                    label=t(lang0, "questions"),
                )
                difficulty = gr.Radio(
                    difficulty_choices(lang0), value="any", label=t(lang0, "difficulty")
                )
                start = gr.Button(t(lang0, "start"), variant="primary", elem_id="start")
            chat = gr.Chatbot(
                label=t(lang0, "chat"),
                height=520,
                sanitize_html=True,
                allow_tags=False,
                elem_id="chat",
            )
            answer = gr.Textbox(
                label=t(lang0, "answer"),
                placeholder=t(lang0, "answer_placeholder"),
                lines=4,
                elem_id="answer",
            )
            with gr.Row():
                submit = gr.Button(t(lang0, "submit"), variant="primary", elem_id="submit")
                hint = gr.Button(t(lang0, "hint"), elem_id="hint")
                skip = gr.Button(t(lang0, "skip"), elem_id="skip")
                reveal = gr.Button(t(lang0, "reveal"), elem_id="reveal")
            with gr.Row():
                coach_q = gr.Textbox(
                    label=t(lang0, "coach_question"),
                    placeholder=t(lang0, "coach_placeholder"),
                    scale=4,
                    elem_id="coach-question",
                )
                ask = gr.Button(t(lang0, "ask_coach"), scale=1, elem_id="ask")
            with gr.Row():
                report_files = gr.File(
                    label=t(lang0, "report_files"), file_count="multiple", interactive=False
                )
                subscores = gr.Plot(label=t(lang0, "subscores_plot"))
        for component, key in (
            (tab_interview, "tab_interview"),
            (topic, "topic"),
            (count, "questions"),
            (difficulty, "difficulty"),
            (chat, "chat"),
            (answer, "answer"),
            (coach_q, "coach_question"),
            (report_files, "report_files"),
            (subscores, "subscores_plot"),
        ):
            relabel(component, key)
        for component, key in (
            (start, "start"),
            (submit, "submit"),
            (hint, "hint"),
            (skip, "skip"),
            (reveal, "reveal"),
            (ask, "ask_coach"),
        ):
            relabel(component, key, "value")

        async def run_action(
            events: AsyncIterator[Event], engine: InterviewEngine, lang: Lang, history: Chat
        ) -> AsyncIterator[tuple[Any, ...]]:
            async for shown, graded, finished in stream_into_chat(events, engine, lang, history):
                files: Any = gr.skip()
                plot: Any = gr.skip()
                if finished:
                    files, plot = write_report(engine, settings, lang)
                yield shown, engine, gr.update(value="") if graded else gr.skip(), files, plot

        async def on_start(topic_value: str, n: float, level: str, lang_label: str):
            lang = _lang(lang_label)
            history: Chat = []
            try:
                interview = await asyncio.to_thread(services.interview)
            except NotReady as exc:
                history.append(
                    {"role": "assistant", "content": t(lang, "not_ready", error=esc(str(exc)))}
                )
                yield history, None, gr.skip(), None, None
                return
            problem = await asyncio.to_thread(services.model_problem)
            if problem:
                # Carry on without the model: cards' own text, rubric-only grading.
                history.append(
                    {"role": "assistant", "content": t(lang, "notice", text=esc(problem))}
                )
                interview.grader = await asyncio.to_thread(services.grader, False)
            config = InterviewConfig(
                topic=None if topic_value in (ALL, None, "") else topic_value,
                questions=int(n),
                difficulty=level if level in DIFFICULTIES else "any",
                language=lang,
            )
            engine = InterviewEngine(interview, config)
            if problem:
                engine.model_down = True
                engine._told_model_down = True
            yield history, engine, gr.skip(), None, None
            async for update in run_action(engine.start(), engine, lang, history):
                yield update

        def action(name: str):
            async def handler(
                text: str, history: Chat, engine: InterviewEngine | None, lang_label: str
            ):
                lang = _lang(lang_label)
                history = list(history or [])
                if engine is None:
                    history.append(
                        {"role": "assistant", "content": t(lang, "notice", text=t(lang, "start"))}
                    )
                    yield history, engine, gr.skip(), gr.skip(), gr.skip()
                    return
                if name in ("answer", "ask_coach") and text and text.strip():
                    history.append({"role": "user", "content": esc(text)})
                if name == "answer":
                    events = engine.answer(text)
                elif name == "ask_coach":
                    events = engine.ask_coach(text)
                else:
                    events = getattr(engine, name)()
                async for update in run_action(events, engine, lang, history):
                    if name == "ask_coach":  # the coach box clears itself below
                        update = (*update[:2], gr.skip(), *update[3:])
                    yield update

            return handler

        outputs = [chat, engine_state, answer, report_files, subscores]
        controls = [start, submit, hint, skip, reveal, ask]

        def set_controls(enabled: bool) -> Callable[[], list[Any]]:
            return lambda: [gr.update(interactive=enabled)] * len(controls)

        def on_click(button: gr.Button, handler: Any, inputs: list[Any]) -> Any:
            """Run ``handler`` with every interview button disabled until it finishes.

            Why: an answer submitted while the question was still streaming reached an
            engine with no open question (seen in the browser test); the candidate now
            cannot act before the coach has finished speaking. ``then`` re-enables the
            buttons whether the handler succeeded or failed."""
            return (
                button.click(set_controls(False), None, controls, queue=False)
                .then(handler, inputs, outputs)
                .then(set_controls(True), None, controls, queue=False)
            )

        on_click(start, on_start, [topic, count, difficulty, language])
        on_click(submit, action("answer"), [answer, chat, engine_state, language])
        for button, name in ((hint, "hint"), (skip, "skip"), (reveal, "reveal")):
            on_click(button, action(name), [answer, chat, engine_state, language])
        on_click(ask, action("ask_coach"), [coach_q, chat, engine_state, language]).then(
            lambda: "", None, coach_q
        )

        # --- batch grading -----------------------------------------------------------
        with gr.Tab(t(lang0, "tab_batch"), id="batch") as tab_batch:
            batch_help = gr.Markdown(t(lang0, "batch_help"))
            batch_file = gr.File(
                label=t(lang0, "batch_file"),
                file_types=[".csv", ".jsonl", ".xlsx"],
                type="filepath",
                elem_id="batch-file",
            )
            batch_llm = gr.Checkbox(value=True, label=t(lang0, "batch_use_llm"))
            batch_run = gr.Button(t(lang0, "batch_run"), variant="primary", elem_id="batch-run")
            batch_status = gr.Markdown(elem_id="batch-status")
            batch_out = gr.File(
                label=t(lang0, "batch_results"),
                file_count="multiple",
                interactive=False,
                elem_id="batch-results",
            )
        relabel(tab_batch, "tab_batch")
        relabel(batch_help, "batch_help", "value")
        relabel(batch_file, "batch_file")
        relabel(batch_llm, "batch_use_llm")
        relabel(batch_run, "batch_run", "value")
        relabel(batch_out, "batch_results")

        async def on_batch(path: str | None, use_llm: bool, lang_label: str):
            from coach.ui.batch import grade_file

            lang = _lang(lang_label)
            async for status, files in grade_file(services, path, use_llm, lang):
                yield status, files

        batch_run.click(on_batch, [batch_file, batch_llm, language], [batch_status, batch_out])

        # --- question bank -------------------------------------------------------------
        with gr.Tab(t(lang0, "tab_corpus"), id="corpus") as tab_corpus:
            with gr.Row():
                query = gr.Textbox(
                    label=t(lang0, "search"),
                    placeholder=t(lang0, "search_placeholder"),
                    scale=4,
                    elem_id="search",
                )
                corpus_topic = gr.Dropdown(
                    topic_choices(lang0), value=ALL, label=t(lang0, "topic"), scale=1
                )
                search_btn = gr.Button(t(lang0, "search_button"), scale=1, elem_id="search-btn")
            results = gr.Dataframe(
                headers=["#", "topic", "title", "source", "score", "id"],
                interactive=False,
                label=t(lang0, "search_results"),
                wrap=True,
            )
            detail = gr.Markdown()
            selected_card = gr.State("")
            with gr.Accordion(t(lang0, "anchors_title"), open=False) as anchors_box:
                anchor_full = gr.Textbox(label=t(lang0, "anchor_full"), lines=3)
                anchor_partial = gr.Textbox(label=t(lang0, "anchor_partial"), lines=3)
                anchor_wrong = gr.Textbox(label=t(lang0, "anchor_wrong"), lines=3)
                anchors_status = gr.Markdown()
                anchors_save = gr.Button(t(lang0, "anchors_save"), elem_id="anchors-save")
        relabel(tab_corpus, "tab_corpus")
        relabel(anchors_box, "anchors_title")
        relabel(anchor_full, "anchor_full")
        relabel(anchor_partial, "anchor_partial")
        relabel(anchor_wrong, "anchor_wrong")
        relabel(anchors_save, "anchors_save", "value")
        relabel(query, "search")
        relabel(corpus_topic, "topic")
        relabel(search_btn, "search_button", "value")
        relabel(results, "search_results")

        def on_search(text: str, topic_value: str):
            from coach.ui.browse import search_rows

            return search_rows(services, text, None if topic_value == ALL else topic_value)

        def on_select(rows: Any, lang_label: str, evt: gr.SelectData):
            from coach.ui.browse import card_anchors, card_markdown

            row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
            card_id = str(rows.iloc[row]["id"] if hasattr(rows, "iloc") else rows[row][-1])
            lang = _lang(lang_label)
            return (
                card_markdown(services, card_id, lang),
                card_id,
                *card_anchors(services, card_id, lang),
            )

        def on_save_anchors(card_id: str, full: str, partial: str, wrong: str, lang_label: str):
            from coach.ui.browse import save_anchors

            return save_anchors(services, card_id, full, partial, wrong, _lang(lang_label))

        search_btn.click(on_search, [query, corpus_topic], results)
        query.submit(on_search, [query, corpus_topic], results)
        results.select(
            on_select,
            [results, language],
            [detail, selected_card, anchor_full, anchor_partial, anchor_wrong, anchors_status],
        )
        anchors_save.click(
            on_save_anchors,
            [selected_card, anchor_full, anchor_partial, anchor_wrong, language],
            anchors_status,
        )

        # --- history -----------------------------------------------------------------
        with gr.Tab(t(lang0, "tab_history"), id="history") as tab_history:
            refresh = gr.Button(t(lang0, "history_refresh"), elem_id="history-refresh")
            progress_plot = gr.Plot(label=t(lang0, "history_plot"))
            sessions = gr.Dataframe(interactive=False, label=t(lang0, "history_sessions"))
            due = gr.Dataframe(interactive=False, label=t(lang0, "history_due"))
        relabel(tab_history, "tab_history")
        relabel(refresh, "history_refresh", "value")
        relabel(progress_plot, "history_plot")
        relabel(sessions, "history_sessions")
        relabel(due, "history_due")

        def on_history(lang_label: str):
            from coach.ui.browse import history_tables

            lang = _lang(lang_label)
            session_rows, due_rows = history_tables(services, lang)
            return progress_figure(services.store.topic_progress(), lang), session_rows, due_rows

        refresh.click(on_history, [language], [progress_plot, sessions, due])
        tab_history.select(on_history, [language], [progress_plot, sessions, due])

        # --- language --------------------------------------------------------------------
        def on_language(lang_label: str):
            lang = _lang(lang_label)
            extra = {
                topic: {"choices": topic_choices(lang)},
                difficulty: {"choices": difficulty_choices(lang)},
                corpus_topic: {"choices": topic_choices(lang)},
                answer: {"placeholder": t(lang, "answer_placeholder")},
                coach_q: {"placeholder": t(lang, "coach_placeholder")},
                query: {"placeholder": t(lang, "search_placeholder")},
            }
            return relabel.updates(lang, extra)

        language.change(on_language, [language], relabel.components)
    return app


def copy_upload(path: Path, folder: Path) -> Path:
    """Uploaded files live in Gradio's temp dir; batch grading works on its own copy."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    shutil.copyfile(path, target)
    return target


def new_work_dir(settings: Settings) -> Path:
    return settings.data_dir / "batch" / uuid.uuid4().hex[:12]
