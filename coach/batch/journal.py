"""The resume journal: one JSON line per finished row, flushed and fsynced as it lands.

Why a journal and not the output itself: rows finish out of order under concurrency, and
the output must be in input order and never half-written. So finished rows are appended
here (a kill loses only rows still in flight), and the output is written from the
journal at the end. The first line records the input's hash, so a journal is never
resumed against a different file.

A lock file beside the journal (``output_lock``) makes one run at a time own an output:
without it a second run would share the first one's journal, and be told that "an
interrupted run" left it while that run was still grading.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from pydantic import BaseModel, ValidationError

from coach.batch.models import BatchBusy, BatchError, BatchResult, JournalError

JOURNAL_KIND = "coach-batch-journal"
_HASH_CHUNK = 1 << 20
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
"""A journal is opened without following a link in its last component: a link put
there after the checks must not make coach write into the file it points to."""


def _open_regular(path: Path, mode: str) -> IO[str]:
    flags = os.O_WRONLY | os.O_CREAT | _NOFOLLOW
    flags |= os.O_APPEND if mode == "a" else os.O_TRUNC
    return os.fdopen(os.open(path, flags, 0o644), mode, encoding="utf-8")


class JournalHeader(BaseModel):
    kind: Literal["coach-batch-journal"] = JOURNAL_KIND
    version: int = 1
    input: str
    input_sha256: str
    use_llm: bool
    sheet: str | None = None
    """The worksheet graded (``--sheet``); None for the active one or a text file."""
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
        self._failed: OSError | None = None

    @classmethod
    def open(cls, path: Path, header: JournalHeader, *, resume: bool) -> Journal:
        if path.exists() and not resume:
            raise JournalError(
                f"An interrupted run left a journal at {path}. Pass --resume to finish it "
                "(only the missing rows are graded), or delete that file to start over."
            )
        if path.is_symlink():
            raise JournalError(
                f"The journal {path} is a symbolic link; coach only reads and writes a "
                "journal it created itself. Remove the link or choose another --output."
            )
        if path.exists() and b"\n" not in path.read_bytes():
            path.unlink()  # killed while writing the header: nothing was graded yet
        if path.exists():
            done = _load(path, header)
            return cls(path, _open_regular(path, "a"), done)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = header.model_copy(update={"created": datetime.now(UTC).isoformat()})
        handle = _open_regular(path, "w")
        journal = cls(path, handle, {})
        journal._write_line(header.model_dump_json())
        _fsync_dir(path.parent)
        return journal

    def append(self, result: BatchResult) -> None:
        """Durable before it returns: the row survives a kill from here on."""
        self._write_line(result.model_dump_json())
        self.done[result.id] = result

    def _write_line(self, line: str) -> None:
        """After one failed write (disk full) nothing more is appended: the buffer may
        still hold part of that line, and a later line would be glued onto it."""
        if self._failed is not None:
            raise self._failed
        try:
            self._handle.write(line + "\n")
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except OSError as exc:
            self._failed = exc
            raise

    def close(self) -> None:
        """Never raises: it runs while another error (often the same full disk) is on its
        way to the user, and must not replace it. Every finished row was fsynced when it
        was appended; what a failed close loses is at most the one line whose write had
        already failed, and a resumed run cuts that torn line off and grades it again."""
        if self._handle.closed:
            return
        with contextlib.suppress(OSError):
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
        with os.fdopen(os.open(path, os.O_RDWR | _NOFOLLOW), "r+b") as handle:
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
    if header.sheet != expected.sheet:
        raise JournalError(
            f"The journal {path} was written for the sheet {header.sheet or '(the active one)'}"
            f"; resume with the same --sheet, or delete it to start over."
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


@contextlib.contextmanager
def output_lock(lock_path: Path, output_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` for the whole run, or raise BatchBusy at
    once when another run holds it (naming its PID when the lock file says it).

    The OS drops the lock when its holder dies, even by SIGKILL, so a killed run never
    blocks its own ``--resume``. The file is deleted while still held, on the way out, so
    no stale lock file is left beside the user's output (the price: two runs started in
    the same instant that a third one ends could both get a lock, one on the deleted
    file; a rare race next to silently sharing a journal)."""
    from filelock import FileLock, Timeout

    holder = _read_pid(lock_path)
    lock = FileLock(lock_path, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        pid = f" (PID {holder})" if holder else ""
        raise BatchBusy(
            f"Another coach run{pid} is writing {output_path} right now (it holds the lock "
            f"{lock_path}). Wait for it to finish, or give this run another --output."
        ) from None
    except OSError as exc:
        raise BatchError(
            f"Cannot create the lock file {lock_path} ({exc.strerror or exc}); make its "
            "folder writable or choose another --output. Nothing was graded."
        ) from exc
    try:
        with contextlib.suppress(OSError):
            lock_path.write_text(f"{os.getpid()}\n", encoding="ascii")
        yield
    finally:
        with contextlib.suppress(OSError):
            lock_path.unlink()
        lock.release()


def _read_pid(lock_path: Path) -> int | None:
    """The PID a running holder wrote into the lock file, if any."""
    try:
        return int(lock_path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


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
