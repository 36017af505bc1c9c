"""Reading user-supplied documents safely.

Anything a user points ``coach ingest`` at may be binary, huge, in GBK, or gone; each
problem becomes a ``CorpusFileError`` naming the file and what to do, so one bad file
never stops the others. Real folders hold more than files: a named pipe would block a
read forever and a link to ``/dev/zero`` never ends, so only regular files are read, their
size is checked before reading and the read itself is bounded. A name whose bytes are
not UTF-8 is shown (and cited) with ``\\xNN`` escapes instead of stopping the ingest.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import NamedTuple

from charset_normalizer import from_bytes

logger = logging.getLogger(__name__)
SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt")


class CorpusFileError(Exception):
    """A file that cannot be ingested; the message names the file and the fix."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{safe_text(path)}: {reason}")
        self.path = path
        self.reason = reason


class CorpusFile(NamedTuple):
    """A file to ingest and the name its cards cite."""

    path: Path
    name: str
    """Relative to the folder that was given (``a/q.md``), the bare name for a file given
    on its own: unique within a folder, and a top-level file keeps its plain name."""


def safe_text(name: str | Path) -> str:
    """``name`` as valid UTF-8 text: undecodable bytes become ``\\xNN`` escapes (JSON,
    hashing and the terminal all need real text)."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def expand_paths(paths: list[Path]) -> tuple[list[CorpusFile], list[CorpusFileError]]:
    """Files to ingest: the files given, and the supported files inside folders given.

    Anything with a supported suffix is listed, pipes and devices included, so that
    ``read_document`` can say why it is skipped rather than leave it out silently.
    """
    files: list[CorpusFile] = []
    errors: list[CorpusFileError] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES)
            if not found:
                errors.append(CorpusFileError(path, "folder holds no .md or .txt files"))
            files.extend(CorpusFile(p, safe_text(p.relative_to(path).as_posix())) for p in found)
        elif path.exists() or path.is_symlink():
            files.append(CorpusFile(path, safe_text(path.name)))
        else:
            errors.append(CorpusFileError(path, "no such file or folder; check the path"))
    return files, errors


def _too_big(path: Path, size: int, max_bytes: int) -> CorpusFileError:
    return CorpusFileError(
        path,
        f"is {size:,} bytes, over the {max_bytes:,}-byte limit "
        "(COACH_MAX_FILE_BYTES); split it into smaller files",
    )


def read_bytes_bounded(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``, checked before reading.

    The file is opened non-blocking (a file swapped for a pipe after the check cannot
    hang the read) and checked again through the open handle, and never more than
    ``max_bytes + 1`` bytes are read (a file that grows is still refused).
    """
    try:
        info = path.stat()  # follows links: a link to /dev/zero is a character device
    except OSError as exc:
        raise CorpusFileError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(info.st_mode):
        raise CorpusFileError(
            path, "is not a regular file (a named pipe, device or folder); not read"
        )
    if info.st_size > max_bytes:
        raise _too_big(path, info.st_size, max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise CorpusFileError(path, "is not a regular file; not read")
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise CorpusFileError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if len(raw) > max_bytes:
        raise _too_big(path, len(raw), max_bytes)
    return raw


def read_document(path: Path, max_bytes: int) -> str:
    """The text of a .md/.txt file in UTF-8, UTF-8 with BOM, GBK/GB18030 or similar."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise CorpusFileError(
            path, f"unsupported file type {path.suffix or '(none)'}; convert it to .md or .txt"
        )
    raw = read_bytes_bounded(path, max_bytes)
    if b"\x00" in raw:
        raise CorpusFileError(path, "looks binary (contains NUL bytes); save it as plain text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        best = from_bytes(raw).best()
        if best is None:
            raise CorpusFileError(path, "text encoding not recognised; save it as UTF-8") from None
        logger.info("%s is not UTF-8: read as %s", path, best.encoding)
        text = str(best)
    if not text.strip():
        raise CorpusFileError(path, "is empty; nothing to ingest")
    return text.replace("\r\n", "\n").replace("\r", "\n")
