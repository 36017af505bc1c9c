"""Checks a command makes before it starts work, reported the one way (``fail``)."""

from __future__ import annotations

from coach.cli.output import fail
from coach.config import Settings


def require_writable_data_dir(settings: Settings, purpose: str) -> None:
    """Exit 1 with one message when the data folder cannot take writes (read-only, or
    its disk full): Chroma writes there even to search, and failed deep inside with a
    traceback (coach/store/data_dir.py)."""
    from coach.store.data_dir import DataDirError, check_data_dir

    try:
        check_data_dir(settings, purpose)
    except DataDirError as exc:
        fail(str(exc))
