"""Atomic file writes: a reader, or a crash, never sees half a file.

Why one writer: the corpus catalog, the BM25 index, the anchors file and the batch
outputs all replace a file that something else reads; each used to carry its own copy,
and only some flushed to disk or cleaned up after a failed write.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def temporary_path(path: Path) -> Path:
    """Beside ``path`` (same file system, so the rename is atomic), hidden, and per
    process, so two processes writing the same file never share a temporary file."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``, on any failure
    (a full disk, Ctrl-C) it is removed and the error goes on. The folder is created
    when missing. The caller flushes its data to disk (``fsync``) before leaving."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """``text`` (UTF-8) to ``path`` via a temporary file that is synced to disk before
    the rename, so a power cut leaves the old file or the new one, never an empty one.
    Opened normally: the file gets the user's usual permissions (mkstemp's are 0600)."""
    with replacing(path) as tmp, tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
