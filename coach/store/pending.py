"""Writes the history database could not take (another program held it), kept in a
file beside it until it can.

Why a file and not a longer wait: the interview engine writes an answer *before* it
grades it, so that nothing typed is lost; a database held by another process (a backup
tool, a second coach, ``sqlite3`` left open in a ``BEGIN EXCLUSIVE``) made that write
wait 30 s and then fail, and the answer was lost after all. Now a write waits a bounded
time (``COACH_HISTORY_BUSY_TIMEOUT``), then lands here as one fsynced JSON line; the
store replays the lines into the database, in order and exactly once, at its next start
or write.

Rows inserted here get a local id (negative, so never a real SQLite rowid); later writes
that name it (the grade of a pending answer) are kept here too and resolved on replay.

The file is guarded by a lock file beside it (``...pending.jsonl.lock``), which exists
only while something is pending or a process is using it: it is removed, still locked,
when the pending file is gone (``PendingLock``), so the data folder holds no stray file
once the writes are replayed.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from filelock import FileLock
from pydantic import BaseModel, Field

try:
    import fcntl
except ImportError:  # Windows: filelock's lock, whose file is its own business
    fcntl = None  # type: ignore[assignment]

_LOCK_SUFFIX = ".lock"
_LOCAL_ID_BITS = 52
"""Local ids are negative random integers: unique across processes sharing the file,
and exact in JSON (below 2**53)."""


class PendingWrite(BaseModel):
    """One SQL write that waits for the database."""

    op_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    kind: str
    """The store method that made it (add_answer, add_grade, ...), for the notices."""
    sql: str
    params: list[Any]
    ids: list[int] = Field(default_factory=list)
    """Positions in ``params`` that hold a row id (local ids are resolved on replay)."""
    local_id: int | None = None
    """For an INSERT: the id handed to the caller in place of the rowid."""


class PendingLock:
    """An exclusive lock on ``path`` (a lock file), removed on release when ``guarded``
    (the pending file) no longer exists.

    Why not filelock's FileLock, as before: on Unix it must leave its file in place
    (a process waiting on the file's inode would otherwise get a lock on a deleted file
    while a newcomer locks a new one: two holders), so every store start left
    ``history.sqlite3.pending.jsonl.lock`` in the data folder. Here a holder removes the
    file while it still holds the lock, and every acquirer checks, once it has the lock,
    that its descriptor is still the file at ``path``; if not (the holder it waited for
    removed it), it tries again on the new one. So the file can go and the lock stays
    exclusive. Where ``flock`` is missing (Windows) filelock's own lock is used.
    """

    def __init__(self, path: Path, guarded: Path) -> None:
        self.path = path
        self.guarded = guarded

    @contextmanager
    def held(self) -> Iterator[None]:
        if fcntl is None:
            with FileLock(self.path, thread_local=False):
                yield
            return
        fd = self._acquire()
        try:
            yield
        finally:
            try:
                if not self.guarded.exists():
                    self.path.unlink(missing_ok=True)  # still held: see the class's why
            finally:
                os.close(fd)  # releases the lock

    def _acquire(self) -> int:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        while True:
            fd = os.open(self.path, flags, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                locked = os.fstat(fd)
                try:
                    current = os.stat(self.path, follow_symlinks=False)
                except FileNotFoundError:
                    current = None
            except BaseException:
                os.close(fd)
                raise
            if current is not None and os.path.samestat(locked, current):
                return fd
            os.close(fd)  # the holder we waited for removed this file: lock the new one


class PendingWrites:
    """The pending file: appended under a file lock, read and removed as a whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = PendingLock(path.with_name(path.name + _LOCK_SUFFIX), path)

    def exists(self) -> bool:
        return self.path.exists()

    def add(self, kind: str, sql: str, params: list[Any], ids: list[int], insert: bool) -> int:
        """Keep one write durably; returns its local id (0 for an UPDATE)."""
        local_id = -(secrets.randbits(_LOCAL_ID_BITS) + 1) if insert else None
        write = PendingWrite(kind=kind, sql=sql, params=params, ids=ids, local_id=local_id)
        with self.lock.held():
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, (write.model_dump_json() + "\n").encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        return local_id or 0

    def read(self) -> list[PendingWrite]:
        """Every complete line; a torn last line (killed mid-write) is skipped.

        Nothing pending and no lock file (every start of a store that was never busy)
        takes no lock: taking it would create the lock file only to remove it. A lock
        file without a pending file (left by an older coach, or a process killed while
        holding it) is taken once, which removes it."""
        if not self.path.exists() and not self.lock.path.exists():
            return []
        with self.lock.held():
            try:
                data = self.path.read_bytes()
            except FileNotFoundError:
                return []
        writes = []
        for line in data.splitlines():
            with suppress(ValueError):
                writes.append(PendingWrite.model_validate(json.loads(line)))
        return writes

    def remove(self, replayed: list[PendingWrite]) -> None:
        """Drop the replayed lines; lines added meanwhile (another process) stay."""
        done = {w.op_id for w in replayed}
        with self.lock.held():
            try:
                data = self.path.read_bytes()
            except FileNotFoundError:
                return
            rest = [line for line in data.splitlines() if line.strip() and _op_id(line) not in done]
            if not rest:
                self.path.unlink(missing_ok=True)
                return
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_bytes(b"\n".join(rest) + b"\n")
            os.replace(tmp, self.path)

    def set_aside(self, suffix: str) -> Path:
        """Move the file out of the way (its writes cannot be replayed); returns where."""
        target = self.path.with_name(self.path.name + suffix)
        with self.lock.held():
            os.replace(self.path, target)
        return target


def _op_id(line: bytes) -> str | None:
    try:
        return json.loads(line).get("op_id")
    except (ValueError, AttributeError):
        return None
