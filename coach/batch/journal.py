"""The resume journal: one JSON line per finished row, flushed and fsynced as it lands.

Why a journal and not the output itself: rows finish out of order under concurrency, and
the output must be in input order and never half-written. So finished rows are appended
here (a kill loses only rows still in flight), and the output is written from the
journal at the end. The first line records the input's hash, so a journal is never
resumed against a different file.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from pydantic import BaseModel, ValidationError

from coach.batch.models import BatchResult, JournalError

JOURNAL_KIND = "coach-batch-journal"
_HASH_CHUNK = 1 << 20


class JournalHeader(BaseModel):
    kind: Literal["coach-batch-journal"] = JOURNAL_KIND
    version: int = 1
    input: str
    input_sha256: str
    use_llm: bool
    created: str = ""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Journal:
    """Append-only; ``open`` either creates it or loads the rows an earlier run finished."""

    def __init__(self, path: Path, handle: IO[str], done: dict[str, BatchResult]):
        self.path = path
        self._handle = handle
        self.done = done

    @classmethod
    def open(cls, path: Path, header: JournalHeader, *, resume: bool) -> Journal:
        if path.exists() and not resume:
            raise JournalError(
                f"An interrupted run left a journal at {path}. Pass --resume to finish it "
                "(only the missing rows are graded), or delete that file to start over."
            )
        if path.exists() and b"\n" not in path.read_bytes():
            path.unlink()  # killed while writing the header: nothing was graded yet
        if path.exists():
            done = _load(path, header)
            return cls(path, path.open("a", encoding="utf-8"), done)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = header.model_copy(update={"created": datetime.now(UTC).isoformat()})
        handle = path.open("w", encoding="utf-8")
        journal = cls(path, handle, {})
        journal._write_line(header.model_dump_json())
        _fsync_dir(path.parent)
        return journal

    def append(self, result: BatchResult) -> None:
        """Durable before it returns: the row survives a kill from here on."""
        self._write_line(result.model_dump_json())
        self.done[result.id] = result

    def _write_line(self, line: str) -> None:
        self._handle.write(line + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()

    def remove(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def _load(path: Path, expected: JournalHeader) -> dict[str, BatchResult]:
    """Rows already finished. A torn last line (killed mid-write) is cut off; damage
    anywhere else is an error, since guessing could lose or duplicate a row."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    # Everything after the last newline is a line the killed run never finished.
    complete, torn = lines[:-1], lines[-1]
    if torn:
        with path.open("r+b") as handle:
            handle.truncate(len(data) - len(torn))
            handle.flush()
            os.fsync(handle.fileno())
    try:
        header = JournalHeader.model_validate_json(complete[0])
    except ValidationError as exc:
        raise JournalError(
            f"{path} is not a coach batch journal ({exc.error_count()} problems in its first "
            "line); delete it or choose another --output."
        ) from exc
    if header.input_sha256 != expected.input_sha256:
        raise JournalError(
            f"The journal {path} belongs to a different input ({header.input}, sha256 "
            f"{header.input_sha256[:12]}…) than {expected.input} (sha256 "
            f"{expected.input_sha256[:12]}…): the file changed or another batch wrote to "
            "this output. Delete the journal to start over, or use another --output."
        )
    if header.use_llm != expected.use_llm:
        was = "with the LLM" if header.use_llm else "with --no-llm"
        raise JournalError(
            f"The journal {path} was written {was}; resume with the same setting, or "
            "delete it to start over."
        )
    done: dict[str, BatchResult] = {}
    for number, line in enumerate(complete[1:], start=2):
        if not line.strip():
            continue
        try:
            result = BatchResult.model_validate(json.loads(line))
        except (ValueError, ValidationError) as exc:
            raise JournalError(
                f"{path} line {number} is damaged ({type(exc).__name__}); delete the journal "
                "to start over."
            ) from exc
        done[result.id] = result
    return done


def _fsync_dir(directory: Path) -> None:
    """Make the new file's directory entry durable too (POSIX; a no-op elsewhere)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
