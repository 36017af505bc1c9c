"""Cards the LLM writes from notes that ask nothing, and where they are kept.

Notes often explain without asking ("## 2.1 张量并行" and three paragraphs). An LLM can
turn such a section into a question with a reference answer drawn only from the section,
but it can also ask something the section does not answer, so a generated card is
marked ``generated``, cites the section it came from, and is never asked in an interview
until accepted (``coach accept-cards``, or ``COACH_ACCEPT_GENERATED=true``).

The store is a JSONL file beside the index, one line per section, keyed by the section
and the hash of its text: a run skips sections already done (so an interrupted run
resumes), and a card whose section has changed since is dropped from the corpus until it
is generated again.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from coach.corpus.models import ArticleChunk, KeyPoint, QuestionCard, SourceSpan


class Section(BaseModel):
    """An article section as the index holds it: its chunks joined."""

    key: str
    """``file#heading / path``: which section, stable while its heading stays."""
    file: str
    start_line: int
    end_line: int
    title: str
    topic: str
    text: str

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]


class GeneratedCard(BaseModel):
    """One line of the store: a section's generated card, or why there is none."""

    key: str
    text_hash: str
    file: str
    start_line: int
    end_line: int
    topic: str = ""
    question: str = ""
    answer: str = ""
    key_points: list[str] = Field(default_factory=list)
    accepted: bool = False
    model: str = ""
    rejected: str = ""
    """Why the reply made no card (no JSON, points not in the section, ...); the section
    is not asked again unless ``--retry`` is given. ``REJECTED_BY_PERSON`` when someone
    turned the card down in the question-bank tab (``--retry`` leaves those alone)."""
    edited: bool = False
    """A person changed the question, answer or key points (the tab says so)."""

    @property
    def card_id(self) -> str:
        if self.offered:  # the plan's own id: the same question planned again is the same
            return self.key.removeprefix(OFFERED_PREFIX)
        from coach.corpus.parser import stable_id

        return stable_id(self.file, str(self.start_line), "generated")

    @property
    def offered(self) -> bool:
        """Written for a job's plan (coach/jobs) and offered to the bank: it has no
        section, so it stays until a person accepts or rejects it."""
        return self.key.startswith(OFFERED_PREFIX)

    def current(self, hashes: dict[str, str]) -> bool:
        """Its section is still as it was (an offered card has none and always is)."""
        return self.offered or hashes.get(self.key) == self.text_hash


OFFERED_PREFIX = "job:"
"""Key prefix of a card a job's plan wrote for an area the bank does not cover."""
REJECTED_BY_PERSON = "rejected by a person"
"""The ``rejected`` reason the question-bank tab writes."""
MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 8000
MAX_KEY_POINTS = 12
MAX_KEY_POINT_CHARS = 300
"""Bounds on what a person may type into a card: what the box accepts is what the store,
the index and every grading prompt then carry."""
_BULLET = re.compile(r"^\s*(?:[-*+•·]|\d{1,2}[.)、．])\s*")


class ReviewError(ValueError):
    """A review action that cannot be done. ``code`` names the problem so that the UI can
    say it in the user's language (strings ``review_<code>``); the message is English."""

    def __init__(self, code: str, message: str, **values: object) -> None:
        super().__init__(message)
        self.code = code
        self.values = values
        """What the message names, for the translated string to name too."""


class CardEdit(BaseModel):
    """What a person may change in a generated card: the question-bank tab's form.

    Key points arrive as the box's lines (a pasted list keeps working: bullets and
    numbers are taken off). An empty question, or a card with nothing to grade against,
    is refused rather than stored: an interview would then ask nothing, or grade on
    nothing."""

    question: str
    answer: str = ""
    key_points: list[str] = Field(default_factory=list)

    @field_validator("question", "answer")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("key_points", mode="before")
    @classmethod
    def _lines(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.splitlines()
        if not isinstance(value, list):
            return value
        points: list[str] = []
        for item in value:
            point = _BULLET.sub("", str(item)).strip()
            if point and point not in points:
                points.append(point)
        return points

    @classmethod
    def parse(cls, question: str, answer: str, key_points: str) -> CardEdit:
        """The form's three boxes, checked; ReviewError names the first problem."""
        change = cls(question=question or "", answer=answer or "", key_points=key_points or "")  # type: ignore[arg-type]
        if not change.question:
            raise ReviewError("empty_question", "the question is empty")
        if not change.answer and not change.key_points:
            raise ReviewError(
                "nothing_to_grade", "give a reference answer or at least one key point"
            )
        too_long = (
            len(change.question) > MAX_QUESTION_CHARS
            or len(change.answer) > MAX_ANSWER_CHARS
            or len(change.key_points) > MAX_KEY_POINTS
            or any(len(p) > MAX_KEY_POINT_CHARS for p in change.key_points)
        )
        if too_long:
            raise ReviewError(
                "too_long",
                f"at most {MAX_QUESTION_CHARS} characters of question, {MAX_ANSWER_CHARS} "
                f"of answer, {MAX_KEY_POINTS} key points of {MAX_KEY_POINT_CHARS}",
                question=MAX_QUESTION_CHARS,
                answer=MAX_ANSWER_CHARS,
                points=MAX_KEY_POINTS,
                point=MAX_KEY_POINT_CHARS,
            )
        return change


def sections(chunks: list[ArticleChunk], min_chars: int) -> list[Section]:
    """Article sections with at least ``min_chars`` characters, in file order."""
    grouped: dict[str, list[ArticleChunk]] = {}
    for chunk in chunks:
        key = f"{chunk.source.file}#{' / '.join(chunk.section_path) or chunk.title}"
        grouped.setdefault(key, []).append(chunk)
    found = []
    for key, parts in grouped.items():
        text = "\n".join(part.text for part in parts)
        if len(text) < min_chars:
            continue
        first = parts[0]
        found.append(
            Section(
                key=key,
                file=first.source.file,
                start_line=min(p.source.start_line for p in parts),
                end_line=max(p.source.end_line for p in parts),
                title=" / ".join(first.section_path) or first.title,
                topic=first.topic,
                text=text,
            )
        )
    return found


def load(path: Path) -> dict[str, GeneratedCard]:
    """The store by section key; a later line for a section replaces an earlier one."""
    if not path.exists():
        return {}
    records: dict[str, GeneratedCard] = {}
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            record = GeneratedCard.model_validate_json(line)
            records[record.key] = record
    return records


def append(path: Path, record: GeneratedCard) -> None:
    """Add one line (flushed at once: a killed run keeps every card written so far)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(record.model_dump_json() + "\n")
        handle.flush()


def rewrite(path: Path, records: dict[str, GeneratedCard]) -> None:
    """The store with one line per section (after accepting cards)."""
    from coach.common.files import write_text_atomic

    lines = [json.dumps(r.model_dump(), ensure_ascii=False) for r in records.values()]
    write_text_atomic(path, "\n".join(lines) + ("\n" if lines else ""))


def as_cards(
    records: dict[str, GeneratedCard], current: list[Section], accept_all: bool
) -> list[QuestionCard]:
    """The store's cards whose section is still there with the same text."""
    hashes = {s.key: s.text_hash for s in current}
    cards = []
    for record in records.values():
        if record.rejected or not record.current(hashes):
            continue
        cards.append(
            QuestionCard(
                id=record.card_id,
                title=record.question,
                question=record.question,
                answer=record.answer,
                references=[record.answer],
                key_points=[KeyPoint(label=p) for p in record.key_points],
                sources=[
                    SourceSpan(
                        file=record.file, start_line=record.start_line, end_line=record.end_line
                    )
                ],
                variants=[record.question],
                topic=record.topic or "综合",
                kind="generated",
                accepted=record.accepted or accept_all,
            )
        )
    return cards


def pending(records: dict[str, GeneratedCard], current: list[Section]) -> list[GeneratedCard]:
    """Cards waiting for a person: written, neither accepted nor turned down, and whose
    section is still as it was (a changed section's card is out of the corpus anyway)."""
    hashes = {s.key: s.text_hash for s in current}
    return [r for r in records.values() if not r.rejected and not r.accepted and r.current(hashes)]


def _find(records: dict[str, GeneratedCard], card_id: str) -> GeneratedCard:
    record = next((r for r in records.values() if r.card_id == card_id), None)
    if record is None:
        raise ReviewError("unknown", f"{card_id} is not a generated card")
    if record.rejected:
        raise ReviewError("was_rejected", f"{card_id} was rejected ({record.rejected})")
    return record


def edit(path: Path, card_id: str, change: CardEdit) -> GeneratedCard:
    """Store a person's question, reference answer and key points for one card.

    Kept in the same store the generator writes (so `coach cards` and the next ingest
    see the edit); the section hash is untouched, so the card stays tied to its source."""
    records = load(path)
    record = _find(records, card_id)
    if (record.question, record.answer, record.key_points) != (
        change.question,
        change.answer,
        change.key_points,
    ):
        record.question, record.answer = change.question, change.answer
        record.key_points = list(change.key_points)
        record.edited = True
        rewrite(path, records)
    return record


def accept(path: Path, card_ids: set[str] | None) -> tuple[int, set[str]]:
    """Accept these cards (None: every card written); the number newly accepted and the
    ids that are not generated cards. Shared by `coach accept-cards` and the tab."""
    records = load(path)
    changed = 0
    for record in records.values():
        wanted = card_ids is None or record.card_id in card_ids
        if wanted and not record.rejected and not record.accepted:
            record.accepted = True
            changed += 1
    unknown = set(card_ids or ()) - {r.card_id for r in records.values()}
    if changed:
        rewrite(path, records)
    return changed, unknown


def reject(path: Path, card_id: str) -> GeneratedCard:
    """Turn one card down: it leaves the corpus, and no `generate-cards` run (``--retry``
    included) writes its section again while the section's text stays the same."""
    records = load(path)
    record = _find(records, card_id)
    record.rejected = REJECTED_BY_PERSON
    record.accepted = False
    rewrite(path, records)
    return record
