"""Reading user-supplied documents safely.

Anything a user points ``coach ingest`` at may be binary, huge, in GBK, or gone; each
problem becomes a ``CorpusFileError`` naming the file and what to do, so one bad file
never stops the others.
"""

from __future__ import annotations

import logging
from pathlib import Path

from charset_normalizer import from_bytes

logger = logging.getLogger(__name__)
SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt")


class CorpusFileError(Exception):
    """A file that cannot be ingested; the message names the file and the fix."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def expand_paths(paths: list[Path]) -> tuple[list[Path], list[CorpusFileError]]:
    """Files to ingest: the files given, and the supported files inside folders given."""
    files: list[Path] = []
    errors: list[CorpusFileError] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES)
            if not found:
                errors.append(CorpusFileError(path, "folder holds no .md or .txt files"))
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            errors.append(CorpusFileError(path, "no such file or folder; check the path"))
    return files, errors


def read_document(path: Path, max_bytes: int) -> str:
    """The text of a .md/.txt file in UTF-8, UTF-8 with BOM, GBK/GB18030 or similar."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise CorpusFileError(
            path, f"unsupported file type {path.suffix or '(none)'}; convert it to .md or .txt"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusFileError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if len(raw) > max_bytes:
        raise CorpusFileError(
            path,
            f"is {len(raw):,} bytes, over the {max_bytes:,}-byte limit "
            "(COACH_MAX_FILE_BYTES); split it into smaller files",
        )
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
