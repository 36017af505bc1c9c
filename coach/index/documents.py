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
    kind: str  # "question" | "answer" | "definition" | "article"
    title: str
    question: str
    topic: str
    source: str  # file:line of the first source
    files: list[str]
    embed_as_query: bool = False
    """Question phrasings are embedded like queries (see Embedder.encode_batches)."""

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


def collect_definitions(cards: list[QuestionCard], max_term_chars: int) -> dict[str, list[str]]:
    """Term -> the corpus's own one-line definitions of it, from key points anywhere.

    Why: candidates describe a concept by its symptom ("测试集上效果差") while the card
    about it is titled by its name ("过拟合"). The corpus often defines the name inside
    *another* card's key points ("**过拟合：** 模型在训练集上表现良好，但在测试集…"), so
    those definitions are attached to the card named by the term. Corpus-derived, so it
    works the same on a user's own documents.
    """
    definitions: dict[str, list[str]] = {}
    for card in cards:
        for point in card.key_points:
            term = point.label.strip()
            if 2 <= len(term) <= max_term_chars and point.explanation:
                definitions.setdefault(term, []).append(f"{term}：{point.explanation}")
    return {term: list(dict.fromkeys(texts)) for term, texts in definitions.items()}


def _definition_lines(card: QuestionCard, definitions: dict[str, list[str]]) -> list[str]:
    """Definitions of the terms named in the card's title, minus the card's own points."""
    own = {p.text() for p in card.key_points} | {
        f"{p.label.strip()}：{p.explanation}" for p in card.key_points
    }
    lines = [
        line
        for term, texts in definitions.items()
        if term in card.title
        for line in texts
        if line not in own
    ]
    return list(dict.fromkeys(lines))


def _card_records(
    card: QuestionCard,
    splitter: RecursiveCharacterTextSplitter,
    definitions: dict[str, list[str]] | None = None,
) -> list[IndexRecord]:
    common = {
        "unit": card.id,
        "title": card.title,
        "question": card.question,
        "topic": card.topic,
        "source": card.source.ref(),
        "files": sorted({s.file for s in card.sources}),
    }
    # One record per phrasing: joined, six variants of a question blur into one vector.
    phrasings = dict.fromkeys([card.title, card.question, *card.variants])
    records = [
        IndexRecord(
            id=f"{card.id}:q{index}", text=text, kind="question", embed_as_query=True, **common
        )
        for index, text in enumerate(p for p in phrasings if p.strip())
    ]
    points = "\n".join(p.text() for p in card.key_points)
    body = f"{card.title}\n{points}\n{card.analysis}".strip()
    for index, piece in enumerate(splitter.split_text(body)):
        records.append(IndexRecord(id=f"{card.id}:a{index}", text=piece, kind="answer", **common))
    # One record per definition, embedded like a query: a candidate's description of a
    # symptom is closer to a one-line definition than to a whole answer.
    for index, line in enumerate(_definition_lines(card, definitions or {})):
        records.append(
            IndexRecord(
                id=f"{card.id}:d{index}",
                text=line,
                kind="definition",
                embed_as_query=True,
                **common,
            )
        )
    return records


def build_records(
    corpus: Corpus, splitter: RecursiveCharacterTextSplitter, max_term_chars: int = 12
) -> list[IndexRecord]:
    definitions = collect_definitions(corpus.cards, max_term_chars)
    records = [r for card in corpus.cards for r in _card_records(card, splitter, definitions)]
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
