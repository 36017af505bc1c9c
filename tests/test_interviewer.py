"""The prepared interviewer (issue 30, part 4): written once per card by the LLM, kept
beside the index, edited in the question-bank tab, and asked at once in an interview for
the gap the grade found; and the program's follow-up decisions around it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from typer.testing import CliRunner

from coach.common.files import write_text_atomic
from coach.config import Settings
from coach.corpus.catalog import Corpus
from coach.grading.flags import GradeFlag
from coach.grading.models import Grade, PointResult
from coach.interview.decisions import FollowUpPlan
from coach.interview.engine import InterviewEngine, Services
from coach.interview.model_voice import ModelVoice, PhrasingSpeed
from coach.interview.models import InterviewConfig
from coach.interview.prepared import PreparedCard, PreparedStore, prepared_hash, probes_text
from coach.interview.preparer import InterviewerWriter, clean_question
from coach.interview.wording import Interviewer
from coach.store.history import HistoryStore
from tests.interview_fakes import CARDS, KeywordGrader, recording_model
from tests.test_interview_engine import kinds, run

OVERFIT, QUANT = CARDS[0], CARDS[1]
PROBE = "Why does augmentation help, and what can it cost you?"


def prepared(settings: Settings) -> PreparedStore:
    store = PreparedStore(settings)
    store.put(
        PreparedCard(
            card_id=OVERFIT.id,
            card_hash=prepared_hash(OVERFIT),
            phrasings=["Your model overfits: what would you do?"],
            probes={"augmentation": [PROBE], "dropout": ["When does dropout stop helping?"]},
            model="test",
        )
    )
    return store


def small(settings: Settings, **interviewer: object) -> Settings:
    section = settings.interviewer.model_copy(update=interviewer)
    return settings.model_copy(update={"interviewer": section})


def test_the_writer_keeps_only_real_questions_that_name_their_point(settings: Settings) -> None:
    fake = FakeListChatModel(
        responses=[
            "Sure! Quantization is a technique",  # an answer, not a question: asked again
            "1. Could you walk me through how quant works?",  # numbering dropped
            "What does int8 cost you in accuracy?",
            "Why does it matter?",  # names no point: asked again
            "When would calibration fail you?",
        ]
    )
    writer = InterviewerWriter(small(settings, phrasings=1, probes_per_point=1), fake)
    record = asyncio.run(writer.write(QUANT))
    assert record.phrasings == ["Could you walk me through how quant works?"]
    assert record.probes == {
        "int8": ["What does int8 cost you in accuracy?"],
        "calibration": ["When would calibration fail you?"],
    }
    assert record.card_hash == prepared_hash(QUANT) and record.model


def test_a_question_that_fails_every_attempt_is_left_out(settings: Settings) -> None:
    fake = FakeListChatModel(responses=["no question here"] * 10)
    writer = InterviewerWriter(small(settings, phrasings=1, probes_per_point=1), fake)
    record = asyncio.run(writer.write(QUANT))
    assert record.empty, "the interview falls back to templates for this card"


def test_clean_question_drops_lead_ins_and_quotes() -> None:
    assert clean_question("追问：「数据增强为什么有效？」\n解释…") == "数据增强为什么有效？"
    assert clean_question("\n2. What fails?") == "What fails?"


def test_the_command_saves_each_card_resumes_and_shows(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coach.cli import app

    write_text_atomic(
        settings.paths.corpus_file, Corpus(cards=[QUANT], chunks=[]).model_dump_json()
    )
    runner = CliRunner()
    shown = runner.invoke(app, ["interviewer", "show", QUANT.id])
    assert shown.exit_code == 1 and "coach interviewer prepare --card quant" in shown.output
    told = runner.invoke(app, ["interviewer", "status"]).output
    assert "0 of 1 cards" in told and "coach interviewer prepare" in told
    monkeypatch.setattr("coach.llm.client.check_server", lambda settings: None)
    fake = FakeListChatModel(
        responses=["How would you explain quant?", "Why int8?", "Why does int8 help?"]
        + ["When does int8 break?", "Why calibration?", "When does calibration fail?"]
    )
    monkeypatch.setattr(InterviewerWriter, "model", property(lambda self: fake))
    result = runner.invoke(app, ["interviewer", "prepare"])
    assert result.exit_code == 0, result.output
    assert "1 cards prepared" in result.output and "0 were prepared already" in result.output
    assert "All 1 cards are prepared" in runner.invoke(app, ["interviewer", "prepare"]).output
    assert "1 of 1 cards" in runner.invoke(app, ["interviewer", "status"]).output
    shown = runner.invoke(app, ["interviewer", "show", QUANT.id])
    assert shown.exit_code == 0 and "int8:" in shown.output and "Why int8?" in shown.output


def test_a_person_edits_it_and_a_changed_card_makes_it_stale(settings: Settings) -> None:
    store = prepared(settings)
    record = store.get(OVERFIT)
    assert record is not None and PROBE in probes_text(record)
    with pytest.raises(ValueError, match="one of this card's points"):
        store.edit(OVERFIT, "", "no such point: why?")
    with pytest.raises(ValueError, match="point: question"):
        store.edit(OVERFIT, "", "dropout without a question")
    edited = store.edit(OVERFIT, "Q1?\n\nQ2?", "dropout： Why does dropout work?\n")
    assert edited.model == "person" and edited.phrasings == ["Q1?", "Q2?"]
    assert edited.probes == {"dropout": ["Why does dropout work?"]}
    changed = OVERFIT.model_copy(update={"question": "Something else?"})
    assert store.get(changed) is None and store.is_stale(changed)


def test_the_bank_tab_shows_and_saves_it(settings: Settings) -> None:
    from coach.ui.browse import card_interviewer, save_interviewer

    class Fake:
        cards = CARDS
        prepared_store = PreparedStore(settings)

    phrasings, probes, line = card_interviewer(Fake, QUANT.id, "en")
    assert (phrasings, probes) == ("", "") and "interviewer prepare --card quant" in line
    saved = save_interviewer(Fake, QUANT.id, "How does int8 work?", "int8: Why int8?", "en")
    assert saved.startswith("Saved")
    phrasings, probes, line = card_interviewer(Fake, QUANT.id, "en")
    assert phrasings == "How does int8 work?" and probes == "int8: Why int8?" and "person" in line
    refused = save_interviewer(Fake, QUANT.id, "", "nope: why?", "en")
    assert "one of this card's points" in refused


def engine_with(settings: Settings, tmp_path: Path, model=None) -> InterviewEngine:
    interview = settings.interview.model_copy(update={"advice": False, "rephrase": False})
    settings = settings.model_copy(update={"interview": interview})
    services = Services(
        settings=settings,
        cards=[OVERFIT],
        grader=KeywordGrader(CARDS),
        store=HistoryStore(tmp_path / "h.sqlite3", settings),
        chat_model=model,
        prepared=prepared(settings),
    )
    config = InterviewConfig(topic="训练优化", questions=1)
    engine = InterviewEngine(services, config, seed=3)
    return engine


def test_the_interview_asks_the_prepared_follow_up_for_the_gap_without_the_model(
    settings: Settings, tmp_path: Path
) -> None:
    model = recording_model(["the model should not be asked"] * 5)
    engine = engine_with(settings, tmp_path, model)
    run(engine.start())
    asked = engine.turns[-1].text
    assert asked in (OVERFIT.question, "Your model overfits: what would you do?")
    events = run(engine.answer("dropout only"))
    follow = [e for e in events if e.kind == "follow_up"]
    assert [e.text for e in follow] == [PROBE], "prepared, at once, never replaced"
    assert engine.turns[-1].targets == ["augmentation"], "graded against the probed point"
    assert model.prompts == [], "no live phrasing for a prepared question"
    engine.services.grader.flags = [GradeFlag.DONT_KNOW]  # as the real grader marks it
    events = run(engine.answer("不知道"))
    assert "follow_up" not in kinds(events), "after 'I don't know' the question is left"


def decided(grade: Grade, settings: Settings, answer: str = "an answer") -> list[str]:
    plan = FollowUpPlan.after_main(grade, answer, settings)
    steps = []
    for _ in range(4):
        step = plan.next_step(settings)
        steps.append(f"{step.kind}:{step.target or step.text or ''}")
        if step.kind == "next":
            break
        plan.asked += 1
    return steps


def test_the_program_decides_follow_ups_from_the_grade(settings: Settings) -> None:
    covered = [
        PointResult(label="a", status="covered", similarity=0.9),
        PointResult(label="b", status="covered", similarity=0.6),
    ]
    missed = [*covered, PointResult(label="c", status="missed")]
    assert decided(Grade(score=5, points=missed, gaps=["c"]), settings)[0] == "point:c"
    depth = decided(Grade(score=6, points=covered), settings)
    assert depth == ["depth:b", "next:"], "once, on the weakest covered point"
    assert decided(Grade(score=9, points=covered), settings) == ["next:"]
    gave_up = Grade(score=0, points=missed, gaps=["c"], flags=[GradeFlag.DONT_KNOW])
    assert decided(gave_up, settings) == ["next:"], "no probing after 'I don't know'"
    assert len(decided(Grade(score=1, points=missed, gaps=["c", "a", "b"]), settings)) == 3


def test_the_wording_prefers_prepared_follow_ups_and_never_repeats_one(
    settings: Settings,
) -> None:
    import random

    words = Interviewer(settings, "en", random.Random(0), prepared(settings))
    assert words.follow_up(OVERFIT, "augmentation", depth=False).text == PROBE
    again = words.follow_up(OVERFIT, "augmentation", depth=False)
    assert not again.prepared and "augmentation" in again.text, "a template the second time"
    assert not words.follow_up(QUANT, "int8", depth=False).prepared, "an unprepared card"
    off = small(settings, use_prepared=False)
    assert (
        not Interviewer(off, "en", random.Random(0), prepared(settings))
        .follow_up(OVERFIT, "dropout", depth=False)
        .prepared
    )
    seen = {words.main_question(OVERFIT).text for _ in range(20)}
    assert seen == {OVERFIT.question, "Your model overfits: what would you do?"}


def test_live_phrasing_stops_once_the_first_calls_show_the_model_too_slow(
    settings: Settings,
) -> None:
    speed = PhrasingSpeed(samples=3)
    voice = ModelVoice(settings, recording_model([]), "zh", speed)
    for seconds in (9.0, 1.0, 7.0):
        assert voice.may_phrase(2.5), "still measuring"
        speed.record(seconds)
    assert not voice.may_phrase(2.5), "median 7 s against a 2.5 s window"
    assert voice.may_phrase(8.0) and not voice.may_phrase(0)


def test_a_near_repeat_of_a_question_already_written_is_asked_again(settings: Settings) -> None:
    fake = FakeListChatModel(
        responses=[
            "int8 有什么好处？它会带来什么额外开销？",
            "int8 有什么好处？它会带来什么坏处？",  # the same question, one word changed
            "int8 在什么情况下会失效？怎么衡量？",
        ]
    )
    card = QUANT.model_copy(
        update={"question": "模型怎么量化？", "key_points": QUANT.key_points[:1]}
    )
    writer = InterviewerWriter(small(settings, phrasings=0, probes_per_point=2), fake)
    record = asyncio.run(writer.write(card))
    assert record.probes == {
        "int8": ["int8 有什么好处？它会带来什么额外开销？", "int8 在什么情况下会失效？怎么衡量？"]
    }


def test_a_chinese_question_with_english_the_card_never_uses_is_asked_again(
    settings: Settings,
) -> None:
    fake = FakeListChatModel(responses=["int8 在哪些场景下会 occur？", "int8 在什么情况下会失效？"])
    card = QUANT.model_copy(
        update={"question": "模型怎么量化？", "key_points": QUANT.key_points[:1]}
    )
    writer = InterviewerWriter(small(settings, phrasings=0, probes_per_point=1), fake)
    assert asyncio.run(writer.write(card)).probes == {"int8": ["int8 在什么情况下会失效？"]}
