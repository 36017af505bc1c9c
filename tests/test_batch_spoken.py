"""Recorded answers in a batch file: the ``audio`` column (fake and real transcriber)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coach.batch import spoken
from coach.batch.reader import read_batch
from coach.config import Settings
from coach.speech.models import Transcript
from coach.speech.transcriber import VoiceUnavailable

VOICE = Path(__file__).parent / "data" / "voice"


class FakeTranscriber:
    available = True
    heard: list[tuple[Path, str | None]] = []

    def __init__(self, settings: Settings) -> None:
        pass

    def check_available(self) -> str:
        if not self.available:
            raise VoiceUnavailable("install the voice extra")
        return "model"

    def transcribe(self, path: Path, *, question: str | None = None) -> Transcript:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such recording")
        FakeTranscriber.heard.append((path, question))
        if "robotic" in path.name:
            return Transcript(
                text="3-4-3", language="zh", duration_s=4, seconds=1, problems=["unsure"]
            )
        return Transcript(text="用 Dropout 和早停", language="zh", duration_s=5, seconds=1)


def _batch(tmp_path: Path, header: str, *lines: str) -> Path:
    for wav in VOICE.glob("*.wav"):
        shutil.copy(wav, tmp_path / wav.name)
    path = tmp_path / "in.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> type[FakeTranscriber]:
    FakeTranscriber.available = True
    FakeTranscriber.heard = []
    monkeypatch.setattr(spoken, "Transcriber", FakeTranscriber)
    return FakeTranscriber


def test_a_recording_stands_in_for_an_empty_answer(tmp_path, settings, fake) -> None:
    path = _batch(
        tmp_path,
        "id,question,answer,audio",
        "a1,如何防止过拟合？,,dropout_en.wav",
        "a2,如何防止过拟合？,写下的回答,dropout_en.wav",
        "a3,如何防止过拟合？,,robotic_zh.wav",
        "a4,如何防止过拟合？,,gone.wav",
    )
    rows = {r.id: r for r in read_batch(path, settings)}
    assert rows["a1"].answer == "用 Dropout 和早停" and rows["a1"].error is None
    assert rows["a2"].answer == "写下的回答", "a written answer wins; its recording is not read"
    assert "no usable answer heard (unsure)" in (rows["a3"].error or "")
    assert "no such recording" in (rows["a4"].error or "")
    assert fake.heard[0] == (tmp_path / "dropout_en.wav", "如何防止过拟合？")
    assert len(fake.heard) == 2


def test_a_file_with_audio_and_no_answer_column_is_read(tmp_path, settings, fake) -> None:
    path = _batch(tmp_path, "question,audio", "如何防止过拟合？,dropout_en.wav")
    (row,) = read_batch(path, settings)
    assert row.answer == "用 Dropout 和早停"


def test_without_voice_each_spoken_row_says_what_to_install(tmp_path, settings, fake) -> None:
    fake.available = False
    path = _batch(
        tmp_path, "id,question,answer,audio", "a1,问题,,dropout_en.wav", "a2,问题,写下的,"
    )
    rows = {r.id: r for r in read_batch(path, settings)}
    assert "install the voice extra" in (rows["a1"].error or "")
    assert rows["a2"].error is None and rows["a2"].answer == "写下的"


@pytest.mark.slow
@pytest.mark.integration
def test_a_real_recording_is_transcribed_into_the_row(tmp_path, settings) -> None:
    pytest.importorskip("faster_whisper")
    path = _batch(tmp_path, "question,audio", "How do you prevent overfitting?,dropout_en.wav")
    english = settings.model_copy(update={"voice": {"language": "en"}})
    (row,) = read_batch(path, english)
    assert row.error is None and "dropout" in row.answer.lower()
