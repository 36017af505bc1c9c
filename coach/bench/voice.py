"""How well and how fast spoken answers are heard: character error rate of the speech
model on a set of recorded answers (eval/voice), without a prompt and with the question
and its card's key terms as the prompt (what the interview does), the real-time factor
and the process's peak memory. Figures only: the quality floor is a test of its own."""

from __future__ import annotations

import re
import resource
import statistics
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import BaseModel

from coach.config import Settings
from coach.speech.transcriber import Transcriber

_NOT_SPOKEN = re.compile(r"[\W_]+")  # punctuation and spaces: not part of what was said


class SpokenAnswer(BaseModel):
    """One line of eval/voice/answers.jsonl."""

    file: str
    card_id: str
    question: str
    key_terms: list[str] = []
    """The card's key-point labels and aliases when the set was made (the interview's
    prompt terms), so the set measures the same prompt without an index."""
    text: str
    """What was read aloud: the reference for the error rate."""


class Heard(BaseModel):
    file: str
    prompted: bool
    cer: float
    audio_s: float
    seconds: float
    problems: list[str]
    text: str


class VoiceBench(BaseModel):
    recordings: int
    audio_s: float
    cer_without_prompt: float
    cer_with_prompt: float
    real_time_factor: float
    """Transcription seconds per second of audio, over every run (1 / speed-up)."""
    peak_rss_mb: float
    runs: list[Heard]


def load_set(path: Path) -> list[SpokenAnswer]:
    lines = path.read_text("utf-8").splitlines()
    return [SpokenAnswer.model_validate_json(line) for line in lines if line.strip()]


def cer(reference: str, heard: str) -> float:
    """Character error rate over what was said (punctuation and spaces ignored).

    Numbers are compared as written: "三十二" heard as "32" counts as errors."""
    import jiwer

    ref = _NOT_SPOKEN.sub("", reference)
    return float(jiwer.cer(ref, _NOT_SPOKEN.sub("", heard) or " "))


def _runs(
    transcriber: Transcriber,
    answers: list[SpokenAnswer],
    folder: Path,
) -> Iterator[Heard]:
    for answer in answers:
        audio = folder / answer.file
        for prompted in (False, True):
            kwargs = (
                {"question": answer.question, "key_terms": answer.key_terms} if prompted else {}
            )
            result = transcriber.transcribe(audio, **kwargs)
            yield Heard(
                file=answer.file,
                prompted=prompted,
                cer=round(cer(answer.text, result.text), 4),
                audio_s=result.duration_s,
                seconds=result.seconds,
                problems=result.problems,
                text=result.text,
            )


def bench_voice(
    settings: Settings,
    answers_file: Path,
    on_run: Callable[[Heard], None] | None = None,
) -> VoiceBench:
    """Every recording of ``answers_file`` (paths relative to it) twice: without a prompt,
    and with the question and key terms as the interview prompts."""
    answers = load_set(answers_file)
    if not answers:
        raise ValueError(f"{answers_file}: no recordings listed")
    transcriber = Transcriber(settings)
    runs = []
    for run in _runs(transcriber, answers, answers_file.parent):
        runs.append(run)
        if on_run:
            on_run(run)

    def mean_cer(prompted: bool) -> float:
        return round(statistics.fmean(r.cer for r in runs if r.prompted is prompted), 4)

    audio = sum(r.audio_s for r in runs)
    return VoiceBench(
        recordings=len(answers),
        audio_s=round(audio / 2, 2),
        cer_without_prompt=mean_cer(False),
        cer_with_prompt=mean_cer(True),
        real_time_factor=round(sum(r.seconds for r in runs) / audio, 3) if audio else 0.0,
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        runs=runs,
    )
