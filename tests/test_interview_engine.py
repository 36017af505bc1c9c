"""The interview state machine, driven through real code paths with fake models."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from coach.config import Settings
from coach.interview.engine import InterviewEngine, Services
from coach.interview.models import Event, InterviewConfig
from coach.interview.report import to_html, to_markdown
from coach.store.history import HistoryStore
from tests.interview_fakes import (
    CARDS,
    FakeSearcher,
    KeywordGrader,
    RecordingChatModel,
    down_model,
    recording_model,
)


def run(events: AsyncIterator[Event]) -> list[Event]:
    async def collect() -> list[Event]:
        return [e async for e in events]

    return asyncio.run(collect())


def kinds(events: list[Event], done_only: bool = True) -> list[str]:
    return [e.kind for e in events if e.done or not done_only]


@pytest.fixture
def store(tmp_path: Path, settings: Settings) -> HistoryStore:
    return HistoryStore(tmp_path / "h.sqlite3", settings)


def make_engine(
    settings: Settings,
    store: HistoryStore,
    *,
    model=None,
    grader=None,
    topic: str | None = "训练优化",
    questions: int = 2,
    difficulty: str = "any",
    searcher=None,
    language: str = "zh",
    advice: bool = False,
    summary: bool = False,
) -> InterviewEngine:
    """``advice``, ``summary``: the model's advice after each main grade and its summary
    of the interview (both on by default in the app); off here so that the model's
    replies queued by a test go to the phrasing it tests."""
    interview = settings.interview.model_copy(update={"advice": advice, "summary": summary})
    settings = settings.model_copy(update={"interview": interview})
    services = Services(
        settings=settings,
        cards=CARDS,
        grader=grader or KeywordGrader(CARDS),
        store=store,
        chat_model=model,
        searcher=searcher,
    )
    config = InterviewConfig(
        topic=topic, questions=questions, difficulty=difficulty, language=language
    )
    return InterviewEngine(services, config, seed=1)


def test_a_whole_interview_with_follow_ups_hint_skip_and_report(
    settings: Settings, store: HistoryStore
) -> None:
    model = recording_model(
        [
            "Tell me how you would fight overfitting",  # first main question
            "And what about augmentation?",  # follow-up 1
            "What would early stopping change?",  # follow-up 2
            "Explain learning rate schedules please",  # second main question
        ]
    )
    grader = KeywordGrader(CARDS)
    engine = make_engine(
        settings.model_copy(update={"interview_follow_ups": 2}),
        store,
        model=model,
        grader=grader,
        language="en",  # the fake model's questions are English
    )
    events = run(engine.start())
    card = engine.services.cards_by_id[engine.current_turn.card_id]
    assert events[0].kind == "question" and events[0].text == card.question, (
        "the card's own question is shown before the model is asked"
    )
    assert not [e for e in events if not e.done], "the model's pieces are not shown"
    first = events[-1]
    assert first.kind == "question" and first.revised and first.turn == events[0].turn
    assert engine.phase == "awaiting_answer"
    assert first.text == "Tell me how you would fight overfitting"
    assert engine.current_turn.text == first.text

    # a hint names one key point label, then the next
    hint1 = run(engine.hint())[-1]
    hint2 = run(engine.hint())[-1]
    assert card.key_points[0].label in hint1.text
    assert card.key_points[1].label in hint2.text
    assert engine.current_turn.hints == 2

    # answer covering only the first point -> grade, then a follow-up about a missed one
    events = run(engine.answer(f"I would use {card.key_points[0].label}."))
    assert kinds(events)[:2] == ["grading", "grade"]
    grade = events[1].grade
    assert grade.covered == [card.key_points[0].label]
    assert events[-1].kind == "follow_up" and events[-1].done
    assert engine.phase == "awaiting_follow_up"
    follow = engine.current_turn
    assert follow.targets == [card.key_points[1].label]
    # the follow-up is graded against the probed point only
    events = run(engine.answer(f"{card.key_points[1].label} adds data"))
    assert grader.calls[-1]["reference"] is not None
    assert card.key_points[1].label in grader.calls[-1]["reference"]
    assert events[1].grade.score == 10
    # a second follow-up (N=2) about the next missed point, then the program moves on
    assert events[-1].kind == "follow_up"
    assert engine.current_turn.targets == [card.key_points[2].label]
    events = run(engine.answer("no idea"))
    assert events[-1].kind == "question", "after N follow-ups the program moves on"
    assert engine.phase == "awaiting_answer"

    # skip the second question: the session ends with a report
    events = run(engine.skip())
    assert events[-1].kind == "report"
    assert engine.phase == "finished"
    report = engine.report()
    assert [r.outcome for r in report.results] == ["answered", "skipped"]
    assert report.results[0].follow_up_scores == [10.0, 0.0]
    assert {r.card_id for r in report.study} >= {report.results[1].card_id}
    assert report.weakest_topics[0].topic == "训练优化"
    counts = store.counts()
    assert counts["sessions"] == 1
    assert counts["questions"] == 4  # 2 main + 2 follow-ups
    assert counts["answers"] == 3 and counts["grades"] == 3


def test_the_model_never_sees_the_reference(settings: Settings, store: HistoryStore) -> None:
    model = recording_model(["Q1?", "F1?", "F2?", "Q2?", "F3?", "F4?"])
    engine = make_engine(settings, store, model=model)
    run(engine.start())
    run(engine.answer("I would use dropout and warmup"))
    run(engine.answer("something"))
    assert model.prompts, "the model was asked"
    for prompt in model.prompts:
        assert "SECRET-" not in prompt, "no reference answer or explanation reaches the model"


def test_model_down_falls_back_to_the_cards_text_and_says_so(
    settings: Settings, store: HistoryStore
) -> None:
    model = down_model()
    engine = make_engine(settings, store, model=model, topic="推理与部署", questions=1)
    events = run(engine.start())
    notices = [e for e in events if e.kind == "notice"]
    assert len(notices) == 1
    assert "not reachable" in notices[0].text and "coach serve-model" in notices[0].text
    questions = [e for e in events if e.kind == "question"]
    assert len(questions) == 1 and questions[0].text == CARDS[1].question
    # grading still works (the grader falls back to the rubric), follow-ups use templates
    events = run(engine.answer("int8 weights"))
    assert events[1].kind == "grade"
    assert events[-1].kind == "follow_up"
    assert "calibration" in events[-1].text
    assert model.calls == 1, "a server found down is not asked again in this session"
    assert not [e for e in events if e.kind == "notice"], "the notice is given once"


def test_grader_reporting_llm_unavailable_shows_the_message(
    settings: Settings, store: HistoryStore
) -> None:
    grader = KeywordGrader(CARDS, flags=["llm_unavailable"])
    engine = make_engine(settings, store, grader=grader, model=None, questions=1)
    run(engine.start())
    events = run(engine.answer("dropout"))
    assert events[1].kind == "notice" and "coach serve-model" in events[1].text
    assert events[2].kind == "grade"


def test_answer_is_saved_before_grading_and_survives_a_grader_crash(
    settings: Settings, store: HistoryStore
) -> None:
    engine = make_engine(settings, store, grader=KeywordGrader(CARDS, fail=True), questions=1)
    run(engine.start())
    events = run(engine.answer("my precious <b>answer</b>"))
    assert kinds(events) == ["grading", "error"]
    assert "saved" in events[-1].text
    assert engine.phase == "awaiting_answer", "the candidate can submit again"
    saved = store.answers_for(engine.current_turn.question_id)
    assert saved[0]["text"] == "my precious <b>answer</b>"
    assert saved[0]["grade"] is None and "grader exploded" in saved[0]["grade_error"]
    # the grader recovers: the resubmitted answer is graded
    engine.services.grader.fail = False
    events = run(engine.answer("dropout"))
    assert events[1].kind == "grade"
    assert len(store.answers_for(engine.turns[0].question_id)) == 2


def test_rubric_grade_is_shown_first_and_the_final_grade_is_what_counts(
    settings: Settings, store: HistoryStore
) -> None:
    grader = KeywordGrader(CARDS, provisional=True)
    engine = make_engine(settings, store, grader=grader, questions=1)
    run(engine.start())
    events = run(engine.answer("dropout and augmentation"))
    grades = [e for e in events if e.kind == "grade"]
    assert [e.done for e in grades] == [False, True], "provisional first, then final"
    assert grades[0].grade.feedback == "provisional"
    final = grades[1].grade
    assert final.feedback != "provisional" and final.score == 2 * grades[0].grade.score
    assert kinds(events)[:2] == ["grading", "grade"], "done_only sees the final grade alone"
    assert len(grader.calls) == 1, "one grading, two stages"
    saved = store.answers_for(engine.turns[0].question_id)
    assert saved[0]["grade"] == final, "the store keeps the final grade"
    assert engine.turns[0].grade == final and engine.plan.score == final.score


def test_empty_or_too_long_answers_are_refused_without_losing_state(
    settings: Settings, store: HistoryStore
) -> None:
    engine = make_engine(settings.model_copy(update={"interview_max_answer_chars": 10}), store)
    run(engine.start())
    assert kinds(run(engine.answer("   "))) == ["notice"]
    too_long = run(engine.answer("x" * 11))
    assert kinds(too_long) == ["notice"]
    assert "上限是 10" in too_long[0].text, "a Chinese interview says it in Chinese"
    assert store.counts()["answers"] == 0
    assert engine.phase == "awaiting_answer"


def test_no_follow_ups_when_the_setting_is_zero_and_reveal_shows_sources(
    settings: Settings, store: HistoryStore
) -> None:
    engine = make_engine(settings.model_copy(update={"interview_follow_ups": 0}), store)
    run(engine.start())
    events = run(engine.answer("nothing useful"))
    assert events[-1].kind == "question", "no follow-up allowed: straight to the next question"
    events = run(engine.reveal())
    reference = events[0]
    assert reference.kind == "reference"
    card = engine.services.cards_by_id[engine.turns[-1].card_id]
    assert reference.sources == [f"{card.id}.md:10", "other.md:3"]
    assert card.key_points[0].label in reference.text
    assert events[-1].kind == "report"
    assert engine.turns[-1].outcome == "revealed"


def test_depth_follow_up_when_every_point_is_covered_but_the_score_is_low(
    settings: Settings, store: HistoryStore
) -> None:
    engine = make_engine(
        settings.model_copy(update={"interview_depth_score": 11.0}),
        store,
        topic="推理与部署",
        questions=1,
    )
    run(engine.start())
    events = run(engine.answer("int8 and calibration"))
    assert events[-1].kind == "follow_up"
    assert engine.current_turn.targets == []
    events = run(engine.answer("because of outliers"))
    assert events[-1].kind == "report", "depth is asked once, then the program moves on"


def test_a_follow_up_about_own_content_is_graded_on_its_own_question(
    settings: Settings, store: HistoryStore
) -> None:
    grader = KeywordGrader(CARDS)
    engine = make_engine(
        settings.model_copy(update={"interview_depth_score": 11.0}),
        store,
        grader=grader,
        topic="推理与部署",
        questions=1,
    )
    run(engine.start())
    run(engine.answer("int8 and calibration"))
    follow_up = engine.current_turn
    assert follow_up.kind == "follow_up" and follow_up.targets == []
    run(engine.answer("because of outliers"))
    call = grader.calls[-1]
    assert call["question"] == follow_up.text, "graded on the follow-up's own question"
    assert call["card_id"] is None and call["reference"], "the card's points as reference"


def test_badly_answered_questions_come_back_first(settings: Settings, store: HistoryStore) -> None:
    quick = settings.model_copy(update={"interview_follow_ups": 0})
    engine = make_engine(quick, store, topic=None, questions=3)
    run(engine.start())
    asked = [engine.current_turn.card_id]
    for _ in range(2):
        card = engine.services.cards_by_id[engine.current_turn.card_id]
        good = " ".join(p.label for p in card.key_points)
        run(engine.answer(good))
        asked.append(engine.current_turn.card_id)
    # the third card is answered badly
    bad = engine.current_turn.card_id
    run(engine.answer("I do not know"))
    reviews = store.reviews()
    assert reviews[bad].box == 1 and reviews[bad].due_at <= store.clock()
    good_card = asked[0]
    assert reviews[good_card].box == 2
    assert reviews[good_card].due_at - reviews[good_card].reviewed_at == timedelta(days=1)
    again = make_engine(quick, store, topic=None, questions=1)
    run(again.start())
    assert again.current_turn.card_id == bad


def test_difficulty_filters_cards(settings: Settings, store: HistoryStore) -> None:
    engine = make_engine(settings, store, topic=None, questions=1, difficulty="hard")
    run(engine.start())
    assert engine.current_turn.card_id == "lr"  # six key points
    engine = make_engine(settings, store, topic=None, questions=3, difficulty="hard")
    events = run(engine.start())
    assert events[0].kind == "notice", "too few hard cards: says others are mixed in"
    assert engine.queue[0].id == "lr"


def test_free_question_is_answered_from_retrieved_passages_with_citations(
    settings: Settings, store: HistoryStore
) -> None:
    model = recording_model(["Q?", "Dropout drops units [1] and early stopping helps [2]"])
    searcher = FakeSearcher()
    engine = make_engine(settings, store, model=model, searcher=searcher)
    run(engine.start())
    events = run(engine.ask_coach("what does dropout do?"))
    assert len([e for e in events if not e.done]) > 1, "streamed"
    final = events[-1]
    assert final.kind == "coach" and "[1]" in final.text
    assert final.sources == ["000.md:91", "002.md:12"]
    assert "Dropout drops units at random." in model.prompts[-1]
    assert searcher.queries == ["what does dropout do?"]
    assert engine.phase == "awaiting_answer", "a free question does not move the interview"


def test_free_question_without_model_lists_the_passages(
    settings: Settings, store: HistoryStore
) -> None:
    engine = make_engine(settings, store, model=down_model(), searcher=FakeSearcher())
    run(engine.start())
    events = run(engine.ask_coach("dropout?"))
    assert events[-1].kind == "coach"
    assert "[1] Dropout" in events[-1].text and events[-1].sources[0] == "000.md:91"


def test_actions_outside_a_question_are_refused_politely(
    settings: Settings, store: HistoryStore
) -> None:
    engine = make_engine(settings, store)
    for action in (engine.answer("x"), engine.hint(), engine.skip(), engine.reveal()):
        assert kinds(run(action)) == ["notice"]
    english = make_engine(settings, store, language="en")
    assert run(english.answer("x"))[0].text == "There is no open question: start an interview."
    missing = make_engine(settings, store, topic="no such topic")
    assert kinds(run(missing.start())) == ["error"]


def test_report_escapes_candidate_text(settings: Settings, store: HistoryStore) -> None:
    engine = make_engine(
        settings.model_copy(update={"interview_follow_ups": 0}),
        store,
        topic="推理与部署",
        questions=1,
    )
    run(engine.start())
    engine.turns[0].text = "<script>alert(1)</script> | pipe"
    run(engine.answer("int8"))
    report = engine.report()
    html = to_html(report)
    markdown = to_markdown(report)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>" not in markdown and "\\|" in markdown
    assert "data:image/png;base64," in html, "sub-scores chart embedded"
    assert "quant.md:10" in markdown, "cards to study name their sources"
    assert "模拟面试报告" in markdown
    assert "Mock interview report" in to_markdown(report, "en")


def test_rambling_phrasing_is_replaced_by_the_cards_question(
    settings: Settings, store: HistoryStore
) -> None:
    from tests.interview_fakes import card

    chinese = card("zh", "评估", ["准确率", "召回率"], question="如何评估大模型的效果？")
    model = recording_model(
        ["1. 训练优化 2. 训练优化 3. 训练优化", "你会如何评估一个大模型的效果呢？"]
    )
    services = Services(
        settings=settings,
        cards=[chinese, card("zh2", "评估", ["a"], question="如何评估大模型的效果和性能？")],
        grader=KeywordGrader([chinese]),
        store=store,
        chat_model=model,
    )
    engine = InterviewEngine(services, InterviewConfig(topic="评估", questions=2), seed=0)
    events = run(engine.start())
    first_card = engine.services.cards_by_id[engine.current_turn.card_id]
    assert [e.text for e in events] == [first_card.question], "garbage is never shown"
    run(engine.skip())
    assert engine.current_turn.text == "你会如何评估一个大模型的效果呢？", (
        "a real rephrasing is kept"
    )


def test_usable_question_checks() -> None:
    from coach.interview.checks import usable_question

    source = "如何处理大模型的过拟合问题？"
    kw = {"source": source, "max_chars": 300, "min_overlap": 0.25, "language": "zh"}
    assert usable_question("面对大模型的过拟合问题，你会如何处理？", **kw)
    assert not usable_question("1. 训练优化\n2. 训练优化", **kw)
    assert not usable_question("您可以在这里提供一个最简单的解释", **kw)
    assert not usable_question("", **kw)
    assert not usable_question("如何处理大模型的过拟合问题？" * 30, **kw)
    english = "How would you handle overfitting in a large model?"
    assert not usable_question(english, **kw), "a Chinese interview asks in Chinese"
    assert usable_question(english, **{**kw, "language": "en"})
    # SmolLM2's reply in a Chinese interview, cut at the line break (seen in the UI)
    assert not usable_question("The answer to this question is:", **{**kw, "language": "en"})
    assert not usable_question("这个问题的答案是：", **kw)
    follow = {"source": "", "max_chars": 300, "min_overlap": 0.0, "language": "zh"}
    assert usable_question("那数据增强具体怎么做？", must_mention="数据增强", **follow)
    assert not usable_question("你还有什么补充吗？", must_mention="数据增强", **follow)
    assert not usable_question("The answer to this question is:", **follow)


class SlowChatModel(RecordingChatModel):
    """A CPU-speed model: each word after ``delay`` seconds; counts cancelled streams."""

    delay: float = 0.2
    cancelled: int = 0

    async def _astream(self, messages, stop=None, run_manager=None, **kw):  # noqa: ANN001, ANN003, ANN202
        try:
            for chunk in self._stream(messages, stop=stop, run_manager=run_manager, **kw):
                await asyncio.sleep(self.delay)
                yield chunk
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


def slow_model(replies: list[str], delay: float) -> SlowChatModel:
    from langchain_core.messages import AIMessage

    return SlowChatModel(
        messages=iter([AIMessage(content=r) for r in replies]), prompts=[], delay=delay
    )


def test_a_slow_model_never_delays_the_question_or_the_follow_up(
    settings: Settings, store: HistoryStore
) -> None:
    fast_windows = settings.model_copy(
        update={"interview_rephrase_window_s": 0.3, "interview_follow_up_window_s": 0.3}
    )
    model = slow_model(["Tell me how you would fight overfitting", "And augmentation?"], 0.2)
    engine = make_engine(fast_windows, store, model=model, language="en")
    events = run(engine.start())
    card = engine.services.cards_by_id[engine.current_turn.card_id]
    assert [(e.kind, e.text, e.revised) for e in events] == [("question", card.question, False)]
    assert model.cancelled == 1, "the late phrasing was cancelled, not left running"
    label = card.key_points[0].label
    events = run(engine.answer(f"I would use {label}."))
    follow = [e for e in events if e.kind == "follow_up"]
    assert len(follow) == 1 and not follow[0].revised
    assert card.key_points[1].label in follow[0].text, "the templated follow-up names the point"
    assert engine.current_turn.text == follow[0].text
    assert model.cancelled == 2


def test_a_phrasing_in_time_replaces_the_text_and_the_stored_question(
    settings: Settings, store: HistoryStore
) -> None:
    model = slow_model(["Tell me how you would fight overfitting"], 0.01)
    engine = make_engine(settings, store, model=model, language="en")
    events = run(engine.start())
    assert [e.revised for e in events] == [False, True]
    with store._db() as db:  # what the history shows later is what was asked
        texts = [r[0] for r in db.execute("SELECT text FROM questions")]
    assert texts == ["Tell me how you would fight overfitting"]


def test_templated_follow_ups_vary_and_fill_the_point(settings: Settings) -> None:
    from coach.interview.phrases import phrase_variants

    for language in ("zh", "en"):
        options = phrase_variants(language, "follow_up_fallback")
        assert len(options) >= 3
        assert all("{aspect}" in o for o in options)
        assert len(phrase_variants(language, "depth_follow_up_fallback")) >= 2
