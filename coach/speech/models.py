"""What a transcription gives back, at the boundary to the CLI, the UI and batch grading."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

_CJK = re.compile(r"[\u3400-\u9fff]")


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
        """Speaking pace for the feedback: Chinese characters a minute (Mandarin is spoken
        at ~200-300), or words a minute for other languages; None for a silent recording."""
        if self.duration_s <= 0 or not self.text:
            return None
        if self.language == "zh":
            count, unit = len(_CJK.findall(self.text)), "characters/min"
        else:
            count, unit = len(self.text.split()), "words/min"
        return count / self.duration_s * 60, unit
