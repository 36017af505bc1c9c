"""The catalog: every ingested file's parse, and the merged corpus built from them.

Keeping each file's parse lets a re-ingest re-read only changed files, and rebuilding
the merged cards from all parses keeps cross-file merging exact when one file changes
or is removed: a merged card loses a removed file's sources by being rebuilt without it.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

from coach.common.files import write_text_atomic
from coach.corpus.dedupe import dedupe
from coach.corpus.models import ArticleChunk, ParsedDocument, QuestionCard
from coach.corpus.topics import is_seed, tag


class Corpus(BaseModel):
    """The merged view every other part of coach reads."""

    cards: list[QuestionCard] = Field(default_factory=list)
    chunks: list[ArticleChunk] = Field(default_factory=list)
    raw_cards: int = 0
    merged_duplicates: int = 0

    def card(self, card_id: str) -> QuestionCard | None:
        return next((c for c in self.cards if c.id == card_id), None)


class Catalog(BaseModel):
    """Parsed documents keyed by the absolute path they were read from."""

    documents: dict[str, ParsedDocument] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Catalog:
        if not path.exists():
            return cls()
        return cls.model_validate_json(path.read_text("utf-8"))

    def save(self, path: Path) -> None:
        write_text_atomic(path, self.model_dump_json())

    def build(self, dedupe_threshold: float) -> Corpus:
        # Merging depends on order (the first card of a group is canonical), so sort by
        # file name, then path, never by the order files were first ingested: an index
        # updated run by run then equals a fresh ingest of the same files.
        ordered = sorted(self.documents.items(), key=lambda item: (item[1].file, item[0]))
        docs = [doc for _, doc in ordered]
        raw = [card for doc in docs for card in doc.cards]
        cards, merged = dedupe(raw, dedupe_threshold)
        for card in cards:
            if is_seed(card.source.file):
                card.topic = tag(card.title, card.question)
        chunks = [chunk.model_copy() for doc in docs for chunk in doc.chunks]
        for chunk in chunks:
            if is_seed(chunk.source.file):
                chunk.topic = tag(chunk.title, chunk.text)
        return Corpus(cards=cards, chunks=chunks, raw_cards=len(raw), merged_duplicates=merged)


def load_corpus(path: Path) -> Corpus:
    if not path.exists():
        raise FileNotFoundError(f"No corpus at {path}: run `coach ingest` first.")
    return Corpus.model_validate(json.loads(path.read_text("utf-8")))
