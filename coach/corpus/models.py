"""The shapes the corpus is parsed into; every later stage (index, grading, interviews)
speaks in these types."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class SourceSpan(BaseModel):
    """Where a card or chunk came from, so feedback can cite ``file:line``."""

    file: str
    start_line: int
    end_line: int

    def ref(self) -> str:
        return f"{self.file}:{self.start_line}"


class KeyPoint(BaseModel):
    """One point a complete answer should make; graders check coverage per point."""

    label: str
    alias: str | None = None
    """The English name given in parentheses, e.g. 数据增强（Data Augmentation）."""
    explanation: str = ""

    def text(self) -> str:
        alias = f"（{self.alias}）" if self.alias else ""
        sep = "：" if self.explanation else ""
        return f"{self.label}{alias}{sep}{self.explanation}"


class QuestionCard(BaseModel):
    """One interview question with everything the sources say about it.

    Duplicates across files are merged into one card: ``sources`` keeps every place it
    was asked, ``variants`` every phrasing, and ``key_points`` the union of points.
    """

    id: str
    title: str
    question: str
    answer: str = ""
    references: list[str] = Field(default_factory=list)
    """Each source's own answer (a merged card's ``answer`` joins them): the grader
    scores against the one the candidate's answer matches best."""
    key_points: list[KeyPoint] = Field(default_factory=list)
    analysis: str = ""
    example: str = ""
    code: list[str] = Field(default_factory=list)
    sources: list[SourceSpan]
    variants: list[str] = Field(default_factory=list)
    topic: str = "综合"
    kind: Literal[
        "bank", "faq", "heading", "qa", "list", "bold", "table", "details", "generated"
    ] = "bank"
    """The shape the question was written in (``coach.corpus.shapes``): a ``**题目：**``
    block, a question heading (under an FAQ heading or not), a ``Q:``/``A:`` pair, a
    numbered or bulleted item, a bold line, a table row or a ``<details>`` block; or
    written by the LLM from an article section (``coach generate-cards``)."""
    accepted: bool = True
    """False for a generated card nobody has accepted yet: shown, never asked."""

    def reference_texts(self) -> list[str]:
        """The reference answers to grade against (cards indexed before ``references``
        existed have only ``answer``)."""
        return [r for r in self.references if r.strip()] or ([self.answer] if self.answer else [])

    @property
    def source(self) -> SourceSpan:
        return self.sources[0]


class ArticleChunk(BaseModel):
    """A piece of an article section, for questions about the material itself."""

    id: str
    title: str
    section_path: list[str]
    text: str
    source: SourceSpan
    topic: str = "综合"


class ParsedDocument(BaseModel):
    """What one file yields before cross-file merging."""

    file: str
    sha256: str
    cards: list[QuestionCard] = Field(default_factory=list)
    chunks: list[ArticleChunk] = Field(default_factory=list)
