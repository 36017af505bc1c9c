"""The prepared interviewer: per card, other phrasings of its question and probing
follow-ups per key point, written once by the LLM and kept beside the index.

Why a record per card and not live phrasing: see coach/config/interviewer.py. The record
is keyed to the card's question and points, so a changed card falls back to templates
until it is prepared again; a person's correction (question-bank tab) is stored as theirs
and kept by later runs unless they ask to overwrite.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from coach.config import Settings
from coach.corpus.models import QuestionCard
from coach.corpus.records import CardRecordStore

PERSON = "person"
"""``model`` of a record a person wrote or corrected."""


class PrepareError(ValueError):
    """A prepared-interviewer file that cannot be read, or an edit that cannot be kept."""


class PreparedCard(BaseModel):
    card_id: str
    card_hash: str
    """The card's question and points when this was written (see ``prepared_hash``)."""
    phrasings: list[str] = Field(default_factory=list)
    """Other ways to ask the card's question, same meaning."""
    probes: dict[str, list[str]] = Field(default_factory=dict)
    """Key-point label -> follow-ups that probe it (why it works, when it fails...)."""
    model: str = ""
    """Who wrote it: the served model's name, or ``person`` once edited."""
    written_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def probes_for(self, label: str) -> list[str]:
        return list(self.probes.get(label, []))

    @property
    def empty(self) -> bool:
        return not self.phrasings and not any(self.probes.values())


def prepared_hash(card: QuestionCard) -> str:
    """Hash of what the record was written from: the question and the key points."""
    payload = json.dumps(
        [card.question, [[p.label, p.explanation] for p in card.key_points]],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


class PreparedStore(CardRecordStore[PreparedCard]):
    """Every card's prepared interviewer (coach/corpus/records.py keeps the file)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.paths.prepared_file, PreparedCard, prepared_hash, PrepareError)

    def edit(self, card: QuestionCard, phrasings_text: str, probes_text: str) -> PreparedCard:
        """A person's version from the question-bank tab's two boxes: one phrasing per
        line, and one follow-up per line as ``label: question`` (the label must be one
        of the card's points, so the interview knows which gap the question probes)."""
        phrasings = [line.strip() for line in phrasings_text.splitlines() if line.strip()]
        labels = {p.label for p in card.key_points}
        probes: dict[str, list[str]] = {}
        for number, raw in enumerate(probes_text.splitlines(), 1):
            line = raw.strip()
            if not line:
                continue
            label, sep, question = line.replace("：", ":", 1).partition(":")
            label, question = label.strip(), question.strip()
            if not sep or not question or label not in labels:
                raise PrepareError(
                    f"Follow-up line {number} must read 'point: question' with one of this "
                    f"card's points ({'、'.join(sorted(labels))}); it reads {line!r}."
                )
            probes.setdefault(label, []).append(question)
        item = PreparedCard(
            card_id=card.id,
            card_hash=prepared_hash(card),
            phrasings=phrasings,
            probes=probes,
            model=PERSON,
        )
        self.put(item)
        return item


def probes_text(item: PreparedCard | None) -> str:
    """The follow-ups as the question-bank tab's box shows them (``label: question``)."""
    if item is None:
        return ""
    return "\n".join(f"{label}: {q}" for label, qs in item.probes.items() for q in qs)
