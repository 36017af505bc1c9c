"""What a transcription gives back, at the boundary to the CLI, the UI and batch grading."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from coach.common.text import cjk_count


class Transcript(BaseModel):
    text: str
    """What Whisper heard, in simplified characters for Chinese; shown even when it has
    ``problems``, so the candidate sees why they are asked to repeat."""
    language: str
    duration_s: float = Field(ge=0)
    """Length of the recording."""
    seconds: float = Field(ge=0)
    """Time the transcription took (real-time factor = seconds / duration_s)."""
    problems: list[str] = Field(default_factory=list)
    """Why the text should not be graded as heard (nothing heard, the prompt echoed back,
    not the expected language): the candidate is asked to repeat or type instead."""

    @property
    def usable(self) -> bool:
        return bool(self.text) and not self.problems

    @property
    def pace(self) -> tuple[float, str] | None:
        """Speaking pace for the status line: see ``Delivery.pace``."""
        return self.delivery().pace

    def delivery(self) -> Delivery:
        return Delivery.of(self.text, self.language, self.duration_s)


class Delivery(BaseModel):
    """How a spoken answer was said, for the grade's feedback: the recordings' length and
    how much was said in them. An answer recorded in several takes adds them up."""

    seconds: float = Field(default=0, ge=0)
    units: int = Field(default=0, ge=0)
    """Chinese characters for Chinese, words otherwise (what the pace counts)."""
    language: str = "zh"

    @classmethod
    def of(cls, text: str, language: str, seconds: float) -> Delivery:
        units = cjk_count(text) if language == "zh" else len(text.split())
        return cls(seconds=seconds, units=units, language=language)

    def plus(self, other: Delivery) -> Delivery:
        return Delivery(
            seconds=self.seconds + other.seconds,
            units=self.units + other.units,
            language=other.language,
        )

    @property
    def pace(self) -> tuple[float, str] | None:
        """Chinese characters a minute (Mandarin is spoken at ~200-300), or words a
        minute for other languages; None for a silent recording."""
        if self.seconds <= 0 or not self.units:
            return None
        unit = "characters/min" if self.language == "zh" else "words/min"
        return self.units / self.seconds * 60, unit

    def verdict(self, slow: float, fast: float) -> Literal["slow", "fast", "ok"] | None:
        pace = self.pace
        if pace is None:
            return None
        return "slow" if pace[0] < slow else "fast" if pace[0] > fast else "ok"
