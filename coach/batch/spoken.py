"""Recorded answers in a batch: a row whose ``audio`` cell names a recording (and whose
answer cell is empty) is graded on its transcript, so a teacher can grade spoken answers.

Transcribed while the file is read, before any grading, with the row's question as the
speech model's prompt. A recording that is missing, unreadable or not usable (nothing
heard, a loop, the wrong script), or a machine without the voice extra and pack, gives that
row an error saying why; the other rows are graded as usual.

Names are relative to the input file's folder (``base``), and recordings are read only
from inside one folder (``root``: the input file's own unless ``--audio-dir`` names
another on the command line; the upload's folder in the UI). A name that leads out of it, by an
absolute path, ``..`` or a link, is that row's error before the file system is asked, so
the message is the same whether such a file exists or not: an uploaded table must not be
a way to read, or probe for, the server's files.
"""

from __future__ import annotations

from pathlib import Path

from coach.batch.models import BatchRow
from coach.config import Settings
from coach.progress import progress_bar
from coach.speech.transcriber import Transcriber, VoiceUnavailable


def transcribe_rows(
    rows: list[BatchRow], base: Path, settings: Settings, root: Path | None = None
) -> list[BatchRow]:
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
        done = {row.index: _transcribed(row, base, root or base, transcriber) for row in bar}
    return [done.get(r.index, r) for r in rows]


def recording_path(name: str, base: Path, root: Path) -> Path | None:
    """Where the recording ``name`` (relative to ``base``) lies, or None when it leads
    out of ``root`` (an absolute path elsewhere, ``..``, a link pointing out)."""
    inside = root.resolve()
    path = (base.resolve() / name).resolve()
    return path if path.is_relative_to(inside) else None


def _transcribed(row: BatchRow, base: Path, root: Path, transcriber: Transcriber) -> BatchRow:
    name = row.audio or ""
    path = recording_path(name, base, root)
    if path is None:
        return row.model_copy(
            update={
                "error": f"the recording {name!r} is outside the folder recordings are read "
                "from; put it beside the batch file and name it relatively (command line: "
                "--audio-dir names another folder; web UI: upload it with the batch, or the "
                "table and its recordings in one .zip)"
            }
        )
    if not path.is_file():
        return row.model_copy(
            update={"error": f"{name}: no such recording among the batch's files"}
        )
    try:
        result = transcriber.transcribe(path, question=row.question or None)
    except (FileNotFoundError, ValueError) as exc:
        # the transcriber names the full path; the row names the cell as written
        return row.model_copy(update={"error": str(exc).replace(str(path), name)})
    if not result.usable:
        why = ", ".join(result.problems)
        return row.model_copy(update={"error": f"{row.audio}: no usable answer heard ({why})"})
    return row.model_copy(update={"answer": result.text})
