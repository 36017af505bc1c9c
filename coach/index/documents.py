"""Turning cards and chunks into the records that are embedded and indexed.

A card is indexed as several records that all point back to it: its phrasings (what a
candidate's question looks like) and its answer (what a topic query looks like), so a
search can match either and still return the whole card, question and answer together.
"""

from __future__ import annotations

import hashlib
import json

from langchain_text_splitters import RecursiveCharacterTextSplitter
from pydantic import BaseModel

from coach.corpus.catalog import Corpus
from coach.corpus.models import QuestionCard


class IndexRecord(BaseModel):
    id: str
    text: str
    unit: str
    """The card id, or the chunk id for article text: hits are grouped by unit."""
    kind: str  # "question" | "answer" | "article"
    title: str
    question: str
    topic: str
    source: str  # file:line of the first source
    files: list[str]

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode("utf-8")).hexdigest()[:16]

    def metadata(self) -> dict[str, str | int]:
        """Chroma metadata: flat scalars only."""
        return {
            "unit": self.unit,
            "kind": self.kind,
            "title": self.title,
            "question": self.question,
            "topic": self.topic,
            "source": self.source,
            "files": json.dumps(self.files, ensure_ascii=False),
            "hash": self.content_hash,
        }


def _card_records(card: QuestionCard, splitter: RecursiveCharacterTextSplitter) -> list[IndexRecord]:
    common = {
        "unit": card.id,
        "title": card.title,
        "question": card.question,
        "topic": card.topic,
        "source": card.source.ref(),
        "files": sorted({s.file for s in card.sources}),
    }
    phrasings = "\n".join(dict.fromkeys([card.title, *card.variants]))
    records = [IndexRecord(id=f"{card.id}:q", text=phrasings, kind="question", **common)]
    points = "\n".join(p.text() for p in card.key_points)
    body = f"{card.title}\n{points}\n{card.analysis}".strip()
    for index, piece in enumerate(splitter.split_text(body)):
        records.append(IndexRecord(id=f"{card.id}:a{index}", text=piece, kind="answer", **common))
    return records


def build_records(corpus: Corpus, splitter: RecursiveCharacterTextSplitter) -> list[IndexRecord]:
    records = [r for card in corpus.cards for r in _card_records(card, splitter)]
    for chunk in corpus.chunks:
        heading = " / ".join(chunk.section_path)
        records.append(
            IndexRecord(
                id=f"{chunk.id}:c",
                text=f"{heading}\n{chunk.text}".strip(),
                unit=chunk.id,
                kind="article",
                title=chunk.title,
                question="",
                topic=chunk.topic,
                source=chunk.source.ref(),
                files=[chunk.source.file],
            )
        )
    return records
