"""Speech to text for one recording, with the question's words as Whisper's prompt.

faster-whisper and OpenCC are an optional extra (``pip install '.[voice]'``) and the model
is a pack (``coach model install whisper-base``): without them the coach works as before,
and this module says how to get them. The prompt (the question and its key terms) is what
took issue 17's probe from 13% to 4% character error rate on a spoken Mandarin answer;
Whisper often writes Chinese in traditional characters, so its text is converted to
simplified, the corpus's script.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from coach.config import Settings
from coach.packs import MARKER, PACKS
from coach.packs.base import pack_dir
from coach.speech import checks
from coach.speech.models import Transcript

INSTALL_HINT = (
    "Voice answers need the voice extra and pack: pip install -e '.[voice]' "
    "(or .venv/bin/pip install faster-whisper opencc-python-reimplemented), then "
    "coach model install whisper-base."
)


def _mean(segments: Sequence[Any], name: str) -> float:
    """A segment property averaged by the segments' length in characters."""
    weights = [max(len(s.text), 1) for s in segments]
    if not weights:
        return 0.0
    return sum(getattr(s, name) * w for s, w in zip(segments, weights, strict=True)) / sum(weights)


class VoiceUnavailable(RuntimeError):
    """The extra or the pack is missing; the message says what to install."""


def build_prompt(question: str | None, key_terms: Sequence[str], limit: int) -> str:
    """The question, then the card's key terms, as Whisper's initial prompt."""
    parts = [question.strip()] if question and question.strip() else []
    terms = [t for t in dict.fromkeys(key_terms) if t][:limit]
    if terms:
        parts.append("关键词：" + "、".join(terms))
    return "\n".join(parts)


@lru_cache(maxsize=2)
def _model(path: str, compute_type: str, threads: int) -> Any:
    from faster_whisper import WhisperModel

    return WhisperModel(path, device="cpu", compute_type=compute_type, cpu_threads=threads)


@lru_cache(maxsize=1)
def _to_simplified() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


class Transcriber:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def check_available(self) -> str:
        """The model folder, or VoiceUnavailable saying what to install."""
        try:
            import faster_whisper  # noqa: F401
            import opencc  # noqa: F401
        except ImportError as exc:
            raise VoiceUnavailable(f"{INSTALL_HINT} ({exc})") from exc
        name = self.settings.voice.pack
        # Never install here: a UI start or a batch must not download 133 MB unasked.
        folder = pack_dir(name, self.settings.paths.models_dir) if name in PACKS else Path(name)
        if name in PACKS and not (folder / MARKER).is_file():
            raise VoiceUnavailable(f"{INSTALL_HINT} (the {name} pack is not installed)")
        if not (folder / "model.bin").is_file():
            raise VoiceUnavailable(f"{INSTALL_HINT} (no model.bin in {folder})")
        return str(folder)

    def transcribe(
        self,
        audio: Path,
        *,
        question: str | None = None,
        key_terms: Sequence[str] = (),
        language: str | None = None,
    ) -> Transcript:
        voice = self.settings.voice
        if not audio.is_file():
            raise FileNotFoundError(f"{audio}: no such recording")
        model = _model(self.check_available(), voice.compute_type, voice.cpu_threads)
        lang = language or voice.language
        prompt = build_prompt(question, key_terms, voice.prompt_terms)
        started = time.perf_counter()
        try:
            segments, info = model.transcribe(
                str(audio),
                language=None if lang == "auto" else lang,
                vad_filter=voice.vad,
                initial_prompt=prompt or None,
                beam_size=voice.beam_size,
                condition_on_previous_text=False,  # a misheard start must not repeat on
            )
            heard_segments = list(segments)
            text = "".join(s.text for s in heard_segments).strip()
        except Exception as exc:  # PyAV cannot decode it, or the file is no audio
            raise ValueError(f"{audio}: could not read the recording ({exc})") from exc
        heard = info.language if lang == "auto" else lang
        if heard == "zh":
            text = _to_simplified().convert(text)
        found = checks.problems(
            text,
            language=heard,
            prompt=prompt,
            voice=voice,
            no_speech=_mean(heard_segments, "no_speech_prob"),
            avg_logprob=_mean(heard_segments, "avg_logprob"),
        )
        return Transcript(
            text=text,
            language=heard,
            duration_s=round(float(info.duration), 3),
            seconds=round(time.perf_counter() - started, 3),
            problems=found,
        )
