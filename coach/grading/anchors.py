"""Anchor answers per card: a full, a partial and a wrong one, kept beside the index.

Why anchors: a card's reference is written by the corpus author, in the author's words;
an anchor is what a candidate might say. The full anchor is one more reference to
match against (the grader uses the best-matching one), and the three together show a
person reading the question bank what the grader considers full, half and wrong. They
are written once by the LLM (`coach anchors generate`), stored as JSON lines a person
can read and correct (in the question-bank tab or by hand), and keyed to the card's
content so a changed card's anchors are known to be stale rather than silently used.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from coach.config import Settings
from coach.corpus.models import QuestionCard
from coach.corpus.records import CardRecordStore

LEVELS = ("full", "partial", "wrong")


class AnchorError(ValueError):
    """An anchors file that cannot be read, or anchors with an empty level."""


class Anchors(BaseModel):
    card_id: str
    card_hash: str
    """The card's content hash when the anchors were written (see ``card_hash``)."""
    full: str = Field(min_length=1)
    partial: str = Field(min_length=1)
    wrong: str = Field(min_length=1)
    model: str = ""
    """Who wrote them: the served model's name, or ``person`` once edited."""
    written_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def text(self, level: str) -> str:
        return str(getattr(self, level))


def card_hash(card: QuestionCard) -> str:
    """Hash of what the anchors were written from (question, references, key points)."""
    payload = json.dumps(
        [card.question, card.reference_texts(), [p.text() for p in card.key_points]],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


class AnchorStore(CardRecordStore[Anchors]):
    """Every card's anchors (coach/corpus/records.py keeps the file)."""

    def __init__(self, settings: Settings, path: Path | None = None) -> None:
        super().__init__(path or settings.paths.anchors_file, Anchors, card_hash, AnchorError)

    def edit(self, card: QuestionCard, full: str, partial: str, wrong: str) -> Anchors:
        """A person's correction: stored as theirs, keyed to the card as it is now."""
        texts = {"full": full.strip(), "partial": partial.strip(), "wrong": wrong.strip()}
        empty = [level for level, text in texts.items() if not text]
        if empty:
            raise AnchorError(f"Anchor answers may not be empty: {', '.join(empty)}.")
        item = Anchors(card_id=card.id, card_hash=card_hash(card), model="person", **texts)
        self.put(item)
        return item


def calibrate(value: float, wrong: float, partial: float, settings: Settings) -> float | None:
    """``value`` (an evidence score, 0-1) remapped so that the card's wrong anchor scores
    ``grading_anchor_target_wrong`` and its partial anchor ``..._target_partial``
    (piecewise linear through (0, 0) and (1, 1)); None when the anchors are out of order
    or too close to say anything."""
    s = settings
    gap = s.grading.anchor_min_gap
    if not (gap <= wrong and wrong + gap <= partial and partial + gap <= 1.0):
        return None
    xs = (0.0, wrong, partial, 1.0)
    ys = (0.0, s.grading.anchor_target_wrong, s.grading.anchor_target_partial, 1.0)
    return float(np.interp(value, xs, ys))
