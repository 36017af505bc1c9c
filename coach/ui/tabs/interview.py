"""The mock-interview tab: topic, count and difficulty, the streamed chat, the answer,
hint, skip, reveal and ask-the-coach buttons, and the report files at the end.

Each browser session keeps its own ``InterviewEngine`` in a ``gr.State``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from coach.config import Settings
from coach.interview.engine import InterviewEngine
from coach.interview.models import Event, InterviewConfig
from coach.speech.models import Delivery
from coach.speech.speaker import Speaker
from coach.speech.transcriber import Transcriber
from coach.ui.chat import Chat, stream_into_chat, write_report
from coach.ui.context import ALL, DIFFICULTIES, UiContext, lang_of
from coach.ui.job import (
    JobState,
    area_choices,
    interview_for,
    plan_stages,
    question_choices,
    remove_areas,
    saved_job_text,
    saved_jobs,
)
from coach.ui.render import esc
from coach.ui.services import AppServices, NotReady
from coach.ui.strings import Lang, t
from coach.ui.voice import (
    BROWSER_SPEECH_JS,
    audio_kwargs,
    heard,
    read_aloud,
    status_when_missing,
    voice_ready,
)

Handler = Callable[..., AsyncIterator[tuple[Any, ...]]]


@dataclass
class InterviewView:
    """The tab's components, for wiring (and for the translator)."""

    topic: Any
    count: Any
    difficulty: Any
    start: Any
    chat: Any
    answer: Any
    mic: Any
    voice_status: Any
    voice_ready: bool
    speak: Any
    question_audio: Any
    browser_speech: Any
    submit: Any
    hint: Any
    skip: Any
    next_question: Any
    stronger: Any
    reveal: Any
    coach_q: Any
    ask: Any
    report_files: Any
    subscores: Any
    engine: Any
    spoken: Any
    """The recordings' length and pace behind the answer box's text (None when typed)."""
    job_box: Any
    jd: Any
    plan: Any
    clear_plan: Any
    plan_view: Any
    planned: Any
    """The plan's questions, ticked: the card ids Start asks (none: by topic and difficulty)."""
    saved_job: Any
    resume: Any
    plan_areas: Any
    """The plan's areas, ticked: unticking one takes it out and allocates again."""
    job_state: Any
    """The plan (coach/ui/job.py JobState) between Plan and Start."""

    @property
    def controls(self) -> list[Any]:
        """Every button that acts on the engine (disabled while one action runs)."""
        return [
            self.start,
            self.submit,
            self.hint,
            self.skip,
            self.next_question,
            self.stronger,
            self.reveal,
            self.ask,
        ]

    @property
    def outputs(self) -> list[Any]:
        """What every action updates, in the order its handler yields them."""
        return [self.chat, self.engine, self.answer, self.report_files, self.subscores]


def build_interview_tab(ctx: UiContext) -> Any:
    with gr.Tab(t(ctx.lang0, "tab_interview"), id="interview") as tab:
        view = _layout(ctx)
    _register_words(ctx, tab, view)
    _wire(ctx, view)
    return tab


def _layout(ctx: UiContext) -> InterviewView:
    lang0, settings = ctx.lang0, ctx.settings
    with gr.Row():
        topic = gr.Dropdown(
            ctx.topic_choices(lang0), value=ALL, label=t(lang0, "topic"), elem_id="topic"
        )
        ctx.topic_fields.append(topic)
        count = gr.Slider(
            1,
            settings.interview.max_questions,
            value=settings.interview.questions,
            step=1,
            label=t(lang0, "questions"),
        )
        difficulty = gr.Radio(
            ctx.difficulty_choices(lang0), value="any", label=t(lang0, "difficulty")
        )
        start = gr.Button(t(lang0, "start"), variant="primary", elem_id="start")
    with gr.Accordion(t(lang0, "job_title"), open=False, elem_id="job") as job_box:
        saved_job = gr.Dropdown(
            choices=[], value=None, label=t(lang0, "job_saved"), elem_id="saved-jobs"
        )
        with gr.Row():
            jd = gr.Textbox(label=t(lang0, "job_jd"), lines=6, elem_id="jd", scale=3)
            resume = gr.File(
                label=t(lang0, "job_resume"),
                file_types=[".txt", ".md", ".pdf", ".docx"],
                type="filepath",
                elem_id="resume",
                scale=1,
            )
        with gr.Row():
            plan = gr.Button(t(lang0, "job_plan"), elem_id="plan")
            clear_plan = gr.Button(t(lang0, "job_clear"), elem_id="clear-plan")
        plan_view = gr.Markdown(elem_id="plan-view")
        plan_areas = gr.CheckboxGroup(
            choices=[],
            value=[],
            label=t(lang0, "job_pick_areas"),
            visible=False,
            elem_id="plan-areas",
        )
        planned = gr.CheckboxGroup(
            choices=[], value=[], label=t(lang0, "job_pick"), visible=False, elem_id="planned"
        )
        job_state = gr.State(None)
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
    ready = voice_ready(settings)
    mic = gr.Audio(label=t(lang0, "record"), elem_id="mic", **audio_kwargs(ready))
    with gr.Row():
        speak = gr.Button(
            t(lang0, "speak"),
            elem_id="speak",
            scale=0,
            visible=settings.voice.speaker != "off",
        )
        question_audio = gr.Audio(
            autoplay=True,
            interactive=False,
            show_label=False,
            elem_id="question-audio",
            visible=settings.voice.speaker != "off",
        )
    # What the browser reads when the server has no voice ("hidden", not False: the
    # page keeps the component, so the script gets its value).
    browser_speech = gr.Textbox(elem_id="browser-speech", visible="hidden")
    voice_status = gr.Markdown(status_when_missing(ready, lang0), elem_id="voice-status")
    with gr.Row():
        submit = gr.Button(t(lang0, "submit"), variant="primary", elem_id="submit")
        hint = gr.Button(t(lang0, "hint"), elem_id="hint")
        skip = gr.Button(t(lang0, "skip"), elem_id="skip")
        next_question = gr.Button(t(lang0, "next_question"), elem_id="next")
        stronger = gr.Button(t(lang0, "stronger"), elem_id="stronger")
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
    return InterviewView(
        topic=topic,
        count=count,
        difficulty=difficulty,
        start=start,
        chat=chat,
        answer=answer,
        mic=mic,
        voice_status=voice_status,
        voice_ready=ready,
        speak=speak,
        question_audio=question_audio,
        browser_speech=browser_speech,
        submit=submit,
        hint=hint,
        skip=skip,
        next_question=next_question,
        stronger=stronger,
        reveal=reveal,
        coach_q=coach_q,
        ask=ask,
        report_files=report_files,
        subscores=subscores,
        engine=gr.State(None),
        spoken=gr.State(None),
        job_box=job_box,
        jd=jd,
        plan=plan,
        clear_plan=clear_plan,
        plan_view=plan_view,
        planned=planned,
        saved_job=saved_job,
        resume=resume,
        plan_areas=plan_areas,
        job_state=job_state,
    )


def _register_words(ctx: UiContext, tab: Any, view: InterviewView) -> None:
    words = ctx.translate
    for component, key in (
        (tab, "tab_interview"),
        (view.topic, "topic"),
        (view.count, "questions"),
        (view.difficulty, "difficulty"),
        (view.chat, "chat"),
        (view.answer, "answer"),
        (view.mic, "record"),
        (view.coach_q, "coach_question"),
        (view.report_files, "report_files"),
        (view.subscores, "subscores_plot"),
        (view.job_box, "job_title"),
        (view.jd, "job_jd"),
        (view.planned, "job_pick"),
        (view.saved_job, "job_saved"),
        (view.resume, "job_resume"),
        (view.plan_areas, "job_pick_areas"),
    ):
        words(component, key)
    for component, key in (
        (view.start, "start"),
        (view.submit, "submit"),
        (view.hint, "hint"),
        (view.skip, "skip"),
        (view.next_question, "next_question"),
        (view.stronger, "stronger"),
        (view.reveal, "reveal"),
        (view.ask, "ask_coach"),
        (view.speak, "speak"),
        (view.plan, "job_plan"),
        (view.clear_plan, "job_clear"),
    ):
        words(component, key, "value")
    words.extra(view.topic, lambda lang: {"choices": ctx.topic_choices(lang)})
    words.extra(view.difficulty, lambda lang: {"choices": ctx.difficulty_choices(lang)})
    words.extra(view.answer, lambda lang: {"placeholder": t(lang, "answer_placeholder")})
    words.extra(view.coach_q, lambda lang: {"placeholder": t(lang, "coach_placeholder")})
    words.extra(
        view.voice_status, lambda lang: {"value": status_when_missing(view.voice_ready, lang)}
    )


def _wire(ctx: UiContext, view: InterviewView) -> None:
    language = ctx.language
    controls = view.controls

    def set_controls(enabled: bool) -> Callable[[], list[Any]]:
        return lambda: [gr.update(interactive=enabled)] * len(controls)

    def on_click(button: Any, handler: Handler, inputs: list[Any]) -> Any:
        """Run ``handler`` with every interview button disabled until it finishes.

        Why: an answer submitted while the question was still streaming reached an
        engine with no open question (seen in the browser test); the candidate now
        cannot act before the coach has finished speaking. ``then`` re-enables the
        buttons whether the handler succeeded or failed."""
        return (
            button.click(set_controls(False), None, controls, queue=False)
            .then(handler, inputs, view.outputs)
            .then(set_controls(True), None, controls, queue=False)
        )

    on_start = _start_handler(ctx.settings, ctx.services)
    starting = [view.topic, view.count, view.difficulty, language, view.planned, view.job_state]
    on_click(view.start, on_start, starting)
    plan_outputs = [view.plan_view, view.plan_areas, view.planned, view.job_state]

    def shown_plan(shown: str, state: JobState | None, lang: Lang, areas: bool = True):
        if state is None:
            hidden = gr.update(choices=[], value=[], visible=False)
            return shown, hidden, hidden, None
        plan = state.current
        choices = question_choices(plan, lang)
        ids = [card_id for _, card_id in choices]
        area_box = gr.skip()
        if areas:
            names = [a.name for a in state.plan.areas]
            area_box = gr.update(
                choices=area_choices(state.plan, lang), value=names, visible=bool(names)
            )
        return shown, area_box, gr.update(choices=choices, value=ids, visible=bool(ids)), state

    async def on_plan(text: str, resume_file: str | None, count: float, lang_label: str):
        lang = lang_of(lang_label)
        stages = plan_stages(ctx.services, text, resume_file, int(count), lang)
        async for shown, state in stages:
            yield shown_plan(shown, state, lang)

    def on_areas(kept: list[str], state: JobState | None, lang_label: str):
        lang = lang_of(lang_label)
        shown, state = remove_areas(state, kept, lang)
        return shown_plan(shown, state, lang, areas=False)

    view.plan.click(on_plan, [view.jd, view.resume, view.count, language], plan_outputs).then(
        lambda: gr.update(choices=saved_jobs(ctx.services)), None, view.saved_job
    )
    view.job_box.expand(
        lambda: gr.update(choices=saved_jobs(ctx.services)), None, view.saved_job, queue=False
    )
    view.plan_areas.input(on_areas, [view.plan_areas, view.job_state, language], plan_outputs)
    view.saved_job.input(
        lambda job_id: saved_job_text(ctx.services, job_id), [view.saved_job], [view.jd]
    )
    view.clear_plan.click(
        lambda lang_label: shown_plan(
            t(lang_of(lang_label), "job_cleared"), None, lang_of(lang_label)
        ),
        [language],
        plan_outputs,
        queue=False,
    )
    acting = [view.answer, view.chat, view.engine, language]
    on_click(view.submit, _action_handler(ctx.settings, "answer"), [*acting, view.spoken]).then(
        _spoken_after_submit, [view.answer, view.spoken], view.spoken, queue=False
    )
    for button, name in (
        (view.hint, "hint"),
        (view.skip, "skip"),
        (view.next_question, "next_question"),
        (view.stronger, "stronger_answer"),
        (view.reveal, "reveal"),
    ):
        on_click(button, _action_handler(ctx.settings, name), acting)
    transcribe = Transcriber(ctx.settings).transcribe

    async def on_record(audio: str | None, engine: Any, answer: str, lang_label: str, spoken: Any):
        return await heard(transcribe, audio, engine, answer or "", lang_of(lang_label), spoken)

    # While recording, the status line says so (not the last take's "heard", which
    # would read as this one's).
    view.mic.start_recording(
        lambda lang_label: t(lang_of(lang_label), "voice_listening"),
        [language],
        view.voice_status,
        queue=False,
    )
    # Once heard, the recording goes: the microphone shows Record again for the next
    # take or the follow-up (it kept the last take's player, with no Record button).
    view.mic.stop_recording(
        on_record,
        [view.mic, view.engine, view.answer, language, view.spoken],
        [view.answer, view.voice_status, view.spoken],
    ).then(lambda: None, None, view.mic, queue=False)
    speaker = Speaker(ctx.settings)

    async def on_speak(engine: Any, lang_label: str):
        return await read_aloud(speaker, engine, lang_of(lang_label))

    view.speak.click(
        on_speak,
        [view.engine, language],
        [view.question_audio, view.browser_speech, view.voice_status],
    ).then(None, [view.browser_speech], None, js=BROWSER_SPEECH_JS)
    asking = [view.coach_q, view.chat, view.engine, language]
    on_click(view.ask, _action_handler(ctx.settings, "ask_coach"), asking).then(
        lambda: "", None, view.coach_q
    )


async def _run_action(
    events: AsyncIterator[Event],
    engine: InterviewEngine,
    lang: Lang,
    history: Chat,
    settings: Settings,
) -> AsyncIterator[tuple[Any, ...]]:
    """The chat after each event; the answer box clears once graded, and the report
    files and plot appear when the interview is over."""
    written_with: str | None = None  # the summary the report files were written with
    async for shown, graded, finished in stream_into_chat(events, engine, lang, history):
        files: Any = gr.skip()
        plot: Any = gr.skip()
        if finished and written_with != engine.summary:
            # once at the report, once more when the coach's summary is in
            files, plot = write_report(engine, settings, lang)
            written_with = engine.summary
        yield shown, engine, gr.update(value="") if graded else gr.skip(), files, plot


def _start_handler(settings: Settings, services: AppServices) -> Handler:
    async def on_start(
        topic_value: str,
        n: float,
        level: str,
        lang_label: str,
        planned: list[str] | None = None,
        job_state: JobState | None = None,
    ):
        lang = lang_of(lang_label)
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
            history.append({"role": "assistant", "content": t(lang, "notice", text=esc(problem))})
            interview.grader = services.deferred_grader(False)
        card_ids, job = interview_for(job_state, planned)
        config = InterviewConfig(
            topic=None if topic_value in (ALL, None, "") else topic_value,
            questions=len(card_ids) if card_ids else int(n),
            difficulty=level if level in DIFFICULTIES else "any",
            language=lang,
            card_ids=card_ids or list(planned or []),
            job=job,
        )
        engine = InterviewEngine(interview, config)
        if problem:
            engine.continue_without_model()  # the notice above already said why
        yield history, engine, gr.skip(), None, None
        async for update in _run_action(engine.start(), engine, lang, history, settings):
            yield update

    return on_start


def _spoken_after_submit(answer: str, spoken: Delivery | None) -> Delivery | None:
    """A graded answer clears the box and its recordings; one that was not (an error, an
    empty or too long answer) keeps them for the next submit."""
    return spoken if answer else None


def _action_handler(settings: Settings, name: str) -> Handler:
    """The handler for one engine action: answer, hint, skip, reveal or ask_coach."""

    async def handler(
        text: str,
        history: Chat,
        engine: InterviewEngine | None,
        lang_label: str,
        spoken: Delivery | None = None,
    ):
        lang = lang_of(lang_label)
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
            events = engine.answer(text, spoken)
        elif name == "ask_coach":
            events = engine.ask_coach(text)
        else:
            events = getattr(engine, name)()
        async for update in _run_action(events, engine, lang, history, settings):
            if name == "ask_coach":  # the coach box clears itself below
                update = (*update[:2], gr.skip(), *update[3:])
            yield update

    return handler
