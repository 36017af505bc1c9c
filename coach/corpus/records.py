"""Records written once per card (anchors, a prepared interviewer), kept beside the index.

Why one store for both: each is a JSON line per card that a person can read and correct,
keyed to the card's content by a hash so that a record written for an earlier version of
a card is known to be stale rather than silently used, and each is written card by card
by a long LLM run that must survive an interruption. The file is replaced atomically on
every write and read again whenever it changed on disk (the question-bank tab and the
interview hold separate stores on one file).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from coach.common.files import write_text_atomic
from coach.corpus.models import QuestionCard


class CardRecord(Protocol):
    card_id: str
    card_hash: str

    def model_dump_json(self) -> str: ...


R = TypeVar("R", bound=BaseModel)


class RecordFileError(ValueError):
    """A records file with a line that is not a valid record."""


class CardRecordStore(Generic[R]):
    """Every card's record of one kind, read once; writes replace the file atomically."""

    def __init__(
        self,
        path: Path,
        record: type[R],
        content_hash: Callable[[QuestionCard], str],
        error: type[ValueError] = RecordFileError,
    ) -> None:
        self.path = path
        self._record = record
        self._hash = content_hash
        self._error = error
        self._lock = threading.Lock()
        self._items: dict[str, R] | None = None
        self._stamp: int | None = None

    def _load(self) -> dict[str, R]:
        stamp = self.path.stat().st_mtime_ns if self.path.exists() else None
        if self._items is None or stamp != self._stamp:
            self._items, self._stamp = {}, stamp
            if stamp is not None:
                for number, line in enumerate(self.path.read_text("utf-8").splitlines(), 1):
                    if not line.strip():
                        continue
                    try:
                        item = self._record.model_validate_json(line)
                    except ValidationError as exc:
                        raise self._error(
                            f"{self.path}:{number} is not a valid {self._record.__name__} "
                            f"record ({exc.errors()[0]['msg']}); fix or delete that line."
                        ) from exc
                    self._items[item.card_id] = item  # type: ignore[attr-defined]
        return self._items

    def all(self) -> dict[str, R]:
        with self._lock:
            return dict(self._load())

    def get(self, card: QuestionCard) -> R | None:
        """The card's record, or None when it has none or it was written for an earlier
        version of the card."""
        with self._lock:
            item = self._load().get(card.id)
        current = item is not None and item.card_hash == self._hash(card)  # type: ignore[attr-defined]
        return item if current else None

    def is_stale(self, card: QuestionCard) -> bool:
        with self._lock:
            item = self._load().get(card.id)
        return item is not None and item.card_hash != self._hash(card)  # type: ignore[attr-defined]

    def put(self, item: R) -> None:
        with self._lock:
            items = self._load()
            items[item.card_id] = item  # type: ignore[attr-defined]
            lines = [items[k].model_dump_json() for k in sorted(items)]
            write_text_atomic(self.path, "\n".join(lines) + "\n")
            self._stamp = self.path.stat().st_mtime_ns
