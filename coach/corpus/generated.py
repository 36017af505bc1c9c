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
from pathlib import Path

from pydantic import BaseModel, Field

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
    is not asked again unless ``--retry`` is given."""

    @property
    def card_id(self) -> str:
        from coach.corpus.parser import stable_id

        return stable_id(self.file, str(self.start_line), "generated")


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
        if record.rejected or hashes.get(record.key) != record.text_hash:
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
