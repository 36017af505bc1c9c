"""Answering by voice in the interview tab: the handler between the microphone and the
answer box (fake transcriber), and the engine's prompt for the speech model."""

from __future__ import annotations

import asyncio
from pathlib import Path

from coach.config import Settings
from coach.interview.engine import InterviewEngine, Services
from coach.interview.models import InterviewConfig
from coach.interview.report import to_html, to_markdown
from coach.speech.models import Delivery, Transcript
from coach.speech.transcriber import VoiceUnavailable
from coach.store.history import HistoryStore
from coach.ui.app import build_app
from coach.ui.chat import stream_into_chat
from coach.ui.voice import heard, voice_ready
from tests.interview_fakes import CARDS, KeywordGrader, down_model
from tests.test_ui import collect


def _engine(tmp_path: Path, settings: Settings) -> InterviewEngine:
    services = Services(
        settings=settings,
        cards=CARDS,
        grader=KeywordGrader(CARDS),
        store=HistoryStore(tmp_path / "h.sqlite3", settings),
        chat_model=down_model(),
    )
    engine = InterviewEngine(services, InterviewConfig(topic="推理与部署", questions=1))
    engine.continue_without_model()
    collect(stream_into_chat(engine.start(), engine, "zh", []))
    return engine


class FakeTranscriber:
    def __init__(self, result: Transcript | Exception) -> None:
        self.result = result
        self.calls: list[dict] = []

    def __call__(self, audio: Path, **kwargs) -> Transcript:
        self.calls.append({"audio": audio, **kwargs})
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def test_the_open_question_and_its_terms_prompt_the_speech_model(
    tmp_path: Path, settings: Settings
) -> None:
    engine = _engine(tmp_path, settings)
    question, terms = engine.speech_prompt()
    card = CARDS[1]
    assert question and card.question in question
    assert terms and terms[0] == card.key_points[0].label


def test_a_usable_recording_lands_in_the_answer_box_with_its_pace(
    tmp_path: Path, settings: Settings
) -> None:
    engine = _engine(tmp_path, settings)
    fake = FakeTranscriber(
        Transcript(text="量化把权重存成 INT8", language="zh", duration_s=6, seconds=1)
    )
    text, status, spoken = asyncio.run(heard(fake, "/tmp/a.wav", engine, "", "zh"))
    assert text == "量化把权重存成 INT8"
    assert "6 秒" in status and "70 字/分钟" in status  # 7 characters in 6 s
    assert spoken == Delivery(seconds=6, units=7, language="zh")
    assert fake.calls[0]["question"] == engine.speech_prompt()[0]
    more, _, both = asyncio.run(heard(fake, "/tmp/b.wav", engine, "先说一点。", "zh", spoken))
    assert more == "先说一点。 量化把权重存成 INT8", "a second recording adds to what is typed"
    assert both == Delivery(seconds=12, units=14, language="zh"), "the takes add up"


def test_an_unusable_recording_keeps_what_was_typed_and_asks_to_repeat(
    tmp_path: Path, settings: Settings
) -> None:
    engine = _engine(tmp_path, settings)
    garbage = Transcript(
        text="3-4-3", language="zh", duration_s=4, seconds=1, problems=["wrong_script"]
    )
    before = Delivery(seconds=3, units=9)
    text, status, spoken = asyncio.run(
        heard(FakeTranscriber(garbage), "/tmp/a.wav", engine, "我的", "zh", before)
    )
    assert text == "我的" and "再说一遍" in status and "wrong_script" in status
    assert spoken == before, "a take that was not used does not count in the pace"
    missing = FakeTranscriber(VoiceUnavailable("no pack"))
    text, status, _ = asyncio.run(heard(missing, "/tmp/a.wav", engine, "我的", "en"))
    assert text == "我的" and "coach model install whisper-base" in status
    broken = FakeTranscriber(ValueError("not audio"))
    _, status, _ = asyncio.run(heard(broken, "/tmp/a.wav", None, "", "en"))
    assert "not audio" in status
    assert asyncio.run(heard(broken, None, engine, "typed", "zh")) == ("typed", "", None)


def test_a_spoken_answers_length_and_pace_are_in_its_grade(
    tmp_path: Path, settings: Settings
) -> None:
    engine = _engine(tmp_path, settings)
    fast = Delivery(seconds=10, units=60, language="zh")  # 360 characters a minute
    shown = collect(stream_into_chat(engine.answer("量化：INT8 权重。", fast), engine, "zh", []))
    grade = next(m["content"] for m in shown[-1][0] if "得分" in m["content"])
    assert "口述 10 秒" in grade and "360 字/分钟" in grade and "偏快" in grade
    assert engine.turns[0].delivery == fast
    report = engine.report()
    assert report.results[0].spoken == fast
    assert "10 s, 360 字/分钟" in to_markdown(report) and "口述（时长、语速）" in to_html(report)
    typed = _engine(tmp_path / "typed", settings)
    shown = collect(stream_into_chat(typed.answer("量化：INT8 权重。"), typed, "zh", []))
    grade = next(m["content"] for m in shown[-1][0] if "得分" in m["content"])
    assert "口述" not in grade, "a typed answer's grade says nothing of speaking"


def test_pace_verdicts_follow_the_settings(settings: Settings) -> None:
    voice = settings.voice
    assert Delivery(seconds=60, units=250).verdict(voice.slow_pace_zh, voice.fast_pace_zh) == "ok"
    assert Delivery(seconds=60, units=100).verdict(voice.slow_pace_zh, voice.fast_pace_zh) == "slow"
    english = Delivery(seconds=30, units=100, language="en")  # 200 words a minute
    assert english.pace == (200.0, "words/min")
    assert english.verdict(voice.slow_pace_en, voice.fast_pace_en) == "fast"
    assert Delivery(seconds=5).verdict(1, 2) is None, "nothing heard: no verdict"


def test_without_the_pack_the_microphone_is_hidden_and_the_tab_says_how(
    tmp_path: Path, settings: Settings
) -> None:
    settings = settings.model_copy(update={"voice": {"pack": str(tmp_path / "none")}})
    assert not voice_ready(settings)
    config = build_app(settings).config
    mic = next(c for c in config["components"] if c["props"].get("elem_id") == "mic")
    status = next(c for c in config["components"] if c["props"].get("elem_id") == "voice-status")
    assert mic["props"]["visible"] is False
    assert "whisper-base" in status["props"]["value"]
