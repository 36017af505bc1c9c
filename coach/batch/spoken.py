"""Recorded answers in a batch: a row whose ``audio`` cell names a recording (and whose
answer cell is empty) is graded on its transcript, so a teacher can grade spoken answers.

Transcribed while the file is read, before any grading, with the row's question as the
speech model's prompt. A recording that is missing, unreadable or not usable (nothing
heard, a loop, the wrong script), or a machine without the voice extra and pack, gives that
row an error saying why; the other rows are graded as usual.
"""

from __future__ import annotations

from pathlib import Path

from coach.batch.models import BatchRow
from coach.config import Settings
from coach.progress import progress_bar
from coach.speech.transcriber import Transcriber, VoiceUnavailable


def transcribe_rows(rows: list[BatchRow], base: Path, settings: Settings) -> list[BatchRow]:
    spoken = [r for r in rows if r.audio and not r.error]
    if not spoken:
        return rows
    transcriber = Transcriber(settings)
    try:
        transcriber.check_available()
    except VoiceUnavailable as exc:
        done = {
            r.index: r.model_copy(
                update={
                    "error": f"the answer is a recording ({r.audio}) but voice is not "
                    f"available: {exc}"
                }
            )
            for r in spoken
        }
    else:
        bar = progress_bar(spoken, desc="transcribe", unit="recording", settings=settings)
        done = {row.index: _transcribed(row, base, transcriber) for row in bar}
    return [done.get(r.index, r) for r in rows]


def _transcribed(row: BatchRow, base: Path, transcriber: Transcriber) -> BatchRow:
    path = Path(row.audio or "")
    path = path if path.is_absolute() else base / path
    try:
        result = transcriber.transcribe(path, question=row.question or None)
    except (FileNotFoundError, ValueError) as exc:
        return row.model_copy(update={"error": str(exc)})
    if not result.usable:
        why = ", ".join(result.problems)
        return row.model_copy(update={"error": f"{row.audio}: no usable answer heard ({why})"})
    return row.model_copy(update={"answer": result.text})
