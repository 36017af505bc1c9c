"""Spoken answers: the transcript checks (fast) and real faster-whisper runs (slow)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coach.config import Settings
from coach.speech import checks
from coach.speech.models import Transcript
from coach.speech.transcriber import Transcriber, VoiceUnavailable, build_prompt

VOICE = Path(__file__).parent / "data" / "voice"
PROMPT = "如何处理大模型的过拟合问题？\n关键词：正则化、Dropout、早停"


def _squashed(text: str) -> str:
    """Lower case without spaces or hyphens: int8 Whisper hears dropout_en.wav as
    "Dropout" on one CPU and "Drop out" on another (2026-12-06, AVX-512 EPYC), and both
    are right."""
    return re.sub(r"[\s-]+", "", text.lower())


def _problems(text: str, language: str = "zh") -> list[str]:
    return checks.problems(text, language=language, prompt=PROMPT, voice=Settings().voice)


def test_a_spoken_answer_passes_the_checks() -> None:
    assert (
        _problems("可以加正则化，训练时用 Dropout 随机丢掉一些神经元，验证集不再变好就早停。") == []
    )
    assert _problems("Use dropout and stop early when the validation loss rises.", "en") == []


@pytest.mark.parametrize(
    ("heard", "problem"),
    [
        ("", checks.NOTHING_HEARD),
        ("  ", checks.NOTHING_HEARD),
        ("如何处理大模型的过拟合问题？关键词：正则化、Dropout、早停", checks.PROMPT_ECHO),
        ("词：正则化：正则化：正则化：正则化", checks.REPETITION),
        ("U biology is free hattukayppry Hippryillaou handchun", checks.WRONG_SCRIPT),
        ("3-4-3-2-3-3-3-4-4-2-3-3", checks.WRONG_SCRIPT),
    ],
)
def test_what_whisper_returns_for_unintelligible_audio_is_caught(heard: str, problem: str) -> None:
    assert problem in _problems(heard)


def test_the_prompt_is_the_question_then_the_terms_once_each() -> None:
    assert build_prompt(" 什么是量化？ ", ["量化", "INT8", "量化", ""], limit=5) == (
        "什么是量化？\n关键词：量化、INT8"
    )
    assert build_prompt(None, ["a", "b", "c"], limit=2) == "关键词：a、b"
    assert build_prompt("", [], limit=3) == ""


def test_pace_counts_characters_for_chinese_and_words_otherwise() -> None:
    zh = Transcript(text="正则化和早停", language="zh", duration_s=3.0, seconds=1.0)
    assert zh.pace == (120.0, "characters/min") and zh.usable
    en = Transcript(text="use dropout", language="en", duration_s=1.0, seconds=0.2)
    assert en.pace == (120.0, "words/min")
    silent = Transcript(text="", language="zh", duration_s=0.0, seconds=0.1)
    assert silent.pace is None and not silent.usable


def test_a_missing_model_says_what_to_install(tmp_path: Path) -> None:
    settings = Settings(voice={"pack": str(tmp_path / "no-model")})
    with pytest.raises(VoiceUnavailable, match="coach model install whisper-base"):
        Transcriber(settings).check_available()


def test_an_uninstalled_pack_is_not_installed_behind_the_users_back(tmp_path: Path) -> None:
    pytest.importorskip("faster_whisper")
    models = tmp_path / "models"
    settings = Settings(models_dir_override=models)
    with pytest.raises(VoiceUnavailable, match="whisper-base pack is not installed"):
        Transcriber(settings).check_available()
    assert not models.exists(), "nothing was downloaded"


@pytest.mark.slow
@pytest.mark.integration
def test_real_whisper_transcribes_a_clear_recording(settings: Settings) -> None:
    pytest.importorskip("faster_whisper", reason="the voice extra is installed by make test")
    result = Transcriber(settings).transcribe(VOICE / "dropout_en.wav", language="en")
    text = _squashed(result.text)
    assert result.usable, result.problems
    assert "dropout" in text and "earlystopping" in text and "validationloss" in text
    assert result.duration_s > 5 and result.seconds > 0


@pytest.mark.slow
@pytest.mark.integration
def test_real_whisper_on_robotic_mandarin_asks_to_repeat(settings: Settings) -> None:
    """espeak-ng's Mandarin is unintelligible to whisper-base, with or without a prompt."""
    pytest.importorskip("faster_whisper")
    transcriber = Transcriber(settings)
    bare = transcriber.transcribe(VOICE / "robotic_zh.wav")
    prompted = transcriber.transcribe(
        VOICE / "robotic_zh.wav", question="如何处理过拟合？", key_terms=["正则化"]
    )
    assert not bare.usable and not prompted.usable, (bare, prompted)


@pytest.mark.slow
@pytest.mark.integration
def test_cli_prints_the_transcript_and_fails_on_an_unusable_one() -> None:
    pytest.importorskip("faster_whisper")
    from coach.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["transcribe", str(VOICE / "dropout_en.wav"), "--language", "en"])
    assert ok.exit_code == 0 and "dropout" in _squashed(ok.stdout)
    bad = runner.invoke(app, ["transcribe", str(VOICE / "robotic_zh.wav"), "--json"])
    assert bad.exit_code == 1 and '"problems"' in bad.stdout
    assert "repeat or type it" in bad.stderr
    missing = runner.invoke(app, ["transcribe", "nope.wav"])
    assert missing.exit_code == 1 and "no such recording" in missing.stderr


def test_whispers_own_doubt_marks_a_transcript_unsure() -> None:
    doubtful = checks.problems(
        "又能如鹤",
        language="zh",
        prompt="",
        voice=Settings().voice,
        no_speech=0.73,
        avg_logprob=-0.44,
    )
    assert checks.UNSURE in doubtful


EVAL_VOICE = Path(__file__).parent.parent / "eval" / "voice" / "answers.jsonl"


def test_character_error_rate_ignores_punctuation_and_counts_the_rest() -> None:
    from coach.bench.voice import cer

    assert cer("量化，把权重存成八位整数。", "量化 把权重存成八位整数") == 0.0
    assert cer("正则化", "证则话") == pytest.approx(2 / 3)
    assert cer("正则化", "") == 1.0


@pytest.mark.slow
@pytest.mark.integration
def test_spoken_mandarin_answers_are_heard_and_the_question_prompt_helps(
    settings: Settings,
) -> None:
    """eval/voice: five synthesised Mandarin answers (21-26 s). Measured 2026-12-04
    (coach bench voice): 0.139 without a prompt, 0.076 with the question and the card's
    key terms; the question alone gave 0.142, so the terms are what help."""
    pytest.importorskip("faster_whisper")
    from coach.bench.voice import bench_voice

    result = bench_voice(settings, EVAL_VOICE)
    assert result.recordings == 5
    assert all(not r.problems for r in result.runs), [r.problems for r in result.runs]
    assert result.cer_with_prompt < result.cer_without_prompt
    assert result.cer_with_prompt <= 0.15 and result.cer_without_prompt <= 0.25
