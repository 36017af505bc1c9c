"""Is the data folder usable for writing? Asked once, at the start of a command.

Why up front: Chroma opens its store for writing even to search, so a read-only data
folder (a read-only mount, ``chattr +i``, another user's files) failed deep inside it,
as a Rich traceback from ``coach search`` and ``coach grade -q`` and as one
"AttributeError: 'RustBindingsAPI' object has no attribute 'bindings'" per batch row.
A full disk fails the same way, later. One message at the start says which folder and
what to do.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from coach.config import Settings


class DataDirError(RuntimeError):
    """The data folder cannot be written; the message says which and what to do."""


def _unwritable(folder: Path) -> str | None:
    """Why nothing can be created in ``folder`` (None when a file can be)."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".coach-write-check-"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _files_unwritable(folder: Path) -> tuple[Path, str] | None:
    """The first file below ``folder`` that cannot be opened for writing (immutable,
    read-only file system, owned by another user), with why."""
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                continue
            if not os.access(path, os.W_OK):
                return path, "not writable"
    return None


def check_data_dir(settings: Settings, purpose: str) -> None:
    """Raise DataDirError when the data folder, the index in it or the disk it is on
    cannot take writes; ``purpose`` says what needed them, for the message."""
    paths = settings.paths
    data = paths.data_dir
    fix = (
        f"Make {data} writable (and the files in it), or point COACH_DATA_DIR at a "
        "writable folder (a copy of this one keeps its index and history)."
    )
    existing = next((p for p in (data, *data.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise DataDirError(f"The data folder {data} cannot be created: {existing} is a file.")
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(
            f"Cannot {purpose}: the data folder {data} cannot be created "
            f"({exc.strerror or exc}). {fix}"
        ) from exc
    for folder in (data, paths.index_dir, paths.chroma_dir):
        if not folder.is_dir():
            continue
        why = _unwritable(folder)
        if why is not None:
            raise DataDirError(f"Cannot {purpose}: {folder} is read-only ({why}). {fix}")
    if paths.index_dir.is_dir():
        blocked = _files_unwritable(paths.index_dir)
        if blocked is not None:
            raise DataDirError(
                f"Cannot {purpose}: {blocked[0]} is read-only (the index's store opens its "
                f"files for writing even to search). {fix}"
            )
    free = shutil.disk_usage(data).free
    if free < settings.storage.min_free_bytes:
        raise DataDirError(
            f"Cannot {purpose}: the disk holding {data} is full ({free // 1_000_000} MB free, "
            f"{settings.storage.min_free_bytes // 1_000_000} MB needed, COACH_MIN_FREE_BYTES; "
            f"{os.strerror(errno.ENOSPC)}). Free some space or point COACH_DATA_DIR elsewhere."
        )
