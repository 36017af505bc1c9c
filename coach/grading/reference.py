"""What an answer is graded against: a card's key points, or a user's reference text.

Why a separate step: batch grading with a ``reference`` column needs no index at all
(teachers grading their own exams), so the searcher is opened only when a question has
to be matched to a card; and "no card matches well" is decided here, with a similarity
that means the same across queries (retrieval scores are min-max normalised per query,
so the top hit always looks perfect).
"""

from __future__ import annotations

import re
import threading
from functools import cached_property

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from coach.config import Settings
from coach.corpus.keypoints import clean_inline, extract_key_points
from coach.corpus.models import KeyPoint, QuestionCard
from coach.grading.anchors import Anchors, AnchorStore
from coach.grading.flags import GradeFlag
from coach.grading.models import ReferenceUsed

USER_REFERENCE_TITLE = "用户提供的参考答案"


class Reference(BaseModel):
    """The key points to check, and the card (if any) they came from."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    question: str
    key_points: list[KeyPoint] = Field(default_factory=list)
    texts: list[str] = Field(default_factory=list)
    """The reference answers themselves (several for a merged card or a batch cell that
    holds several); the evidence score uses the best-matching one."""
    used: ReferenceUsed
    card: QuestionCard | None = None
    anchors: Anchors | None = None
    """The card's anchor answers (its full anchor is also the last of ``texts``)."""
    profile: str = ""
    """The card as the off-question check sees it: question and key-point labels."""
    rivals: list[str] = Field(default_factory=list)
    """The profiles of the bank's other cards (grading/substance.py, off_question)."""
    material: list[str] = Field(default_factory=list)
    """Passages retrieved for the card's question (neighbouring cards, article chunks):
    what else the question's material says, so an answer that goes beyond the card
    with content the material supports is recognised as on the question."""
    flags: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


REFERENCE_SEPARATOR = re.compile(r"^\s*-{3,}\s*$", re.MULTILINE)
"""A line of three or more dashes between two reference answers in one cell."""


def split_references(text: str) -> list[str]:
    return [t.strip() for t in REFERENCE_SEPARATOR.split(text) if t.strip()]


class ReferenceError(ValueError):
    """A card id that does not exist, or a reference with nothing to grade against."""


class ReferenceFinder:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._from_text: dict[tuple[str, str], Reference] = {}
        self._matches: dict[str, tuple[str, float]] = {}
        self._material: dict[str, list[str]] = {}
        self._profiles: dict[str, str] | None = None
        """Card id -> texts retrieved for its question (one search per card)."""
        """Question -> (card id, similarity): a batch asks the same questions many times,
        and a retrieval costs four encoder passes. The card itself is looked up each time
        (its anchors may be edited while the coach runs)."""

    @cached_property
    def searcher(self):  # noqa: ANN201 - HybridSearcher, imported lazily (needs the index)
        from coach.index.retriever import HybridSearcher

        return HybridSearcher(self.settings)

    def find(
        self, question: str, *, reference: str | None = None, card_id: str | None = None
    ) -> Reference:
        if reference is not None and reference.strip():
            return self.from_text(question, reference)
        with self._lock:  # the searcher is built once, shared by concurrent gradings
            searcher = self.searcher
        if card_id:
            card = searcher.corpus.card(card_id)
            if card is None:
                raise ReferenceError(
                    f"No card with id {card_id!r}; list the ids with `coach cards`."
                )
            return self.from_card(card, match_score=None)
        return self.retrieve(question)

    def from_text(self, question: str, reference: str) -> Reference:
        """A teacher's reference answer: key points extracted exactly as for a card.
        Several reference answers go in one cell, separated by a line of ``---``.
        Remembered per (question, reference): every row of a batch repeats them."""
        key = (question, reference)
        with self._lock:
            known = self._from_text.get(key)
        if known is None:
            known = self._parse_text(question, reference)
            with self._lock:
                _remember(self._from_text, key, known, self.settings.grading.reference_cache)
        return known.model_copy(update={"flags": list(known.flags), "notes": list(known.notes)})

    def _parse_text(self, question: str, reference: str) -> Reference:
        texts = split_references(reference)
        points = [p for t in texts for p in extract_key_points(t) if clean_inline(p.label)]
        if not points:
            raise ReferenceError("The reference answer is empty; give its text or omit it.")
        return Reference(
            question=question,
            key_points=points,
            texts=texts,
            used=ReferenceUsed(title=USER_REFERENCE_TITLE, question=question),
        )

    @cached_property
    def anchor_store(self) -> AnchorStore:
        return AnchorStore(self.settings)

    def from_card(self, card: QuestionCard, match_score: float | None) -> Reference:
        anchors = self.anchor_store.get(card) if self.settings.grading.use_anchors else None
        texts = card.reference_texts() + ([anchors.full] if anchors else [])
        return Reference(
            question=card.question,
            key_points=list(card.key_points),
            texts=texts,
            card=card,
            anchors=anchors,
            material=self.material(card),
            profile=card_profile(card),
            rivals=[p for cid, p in self.profiles().items() if cid != card.id],
            used=ReferenceUsed(
                card_id=card.id,
                title=card.title,
                question=card.question,
                sources=[s.ref() for s in card.sources],
                match_score=match_score,
                anchored=anchors is not None,
            ),
        )

    def profiles(self) -> dict[str, str]:
        """Card id -> profile, for every card of the bank (built once)."""
        with self._lock:
            if self._profiles is None:
                self._profiles = {c.id: card_profile(c) for c in self.searcher.corpus.cards}
            return self._profiles

    def material(self, card: QuestionCard) -> list[str]:
        """Texts of the passages hybrid search finds for the card's question, the card
        itself left out; remembered per card."""
        with self._lock:
            known = self._material.get(card.id)
        if known is not None:
            return known
        k = self.settings.grading.material_k
        hits = self.searcher.search(card.question, k + 1) if k else []
        texts = [h.text for h in hits if h.unit != card.id][:k]
        with self._lock:
            _remember(self._material, card.id, texts, self.settings.grading.reference_cache)
        return texts

    def retrieve(self, question: str) -> Reference:
        if not question.strip():
            raise ReferenceError("The question is empty: give the question that was asked.")
        with self._lock:
            match = self._matches.get(question)
        card = self.searcher.corpus.card(match[0]) if match else None
        if card is not None and match is not None:
            similarity = match[1]
        else:
            card, similarity = self._best_card(question)
            with self._lock:
                limit = self.settings.grading.reference_cache
                _remember(self._matches, question, (card.id, similarity), limit)
        ref = self.from_card(card, match_score=round(similarity, 4))
        if similarity < self.settings.grading.card_match_min:
            ref.flags.append(GradeFlag.NO_MATCHING_CARD)
            ref.notes.append(
                f"没有与该问题足够接近的题目卡片：最接近的是「{card.title}」"
                f"（相似度 {similarity:.2f}），评分可能不可靠；"
                "可以用 --reference 提供参考答案。"
            )
        return ref

    def _best_card(self, question: str) -> tuple[QuestionCard, float]:
        from coach.index.retriever import Filters

        hits = self.searcher.search(
            question, self.settings.grading.retrieval_k, Filters(kind="card")
        )
        cards = [c for c in (self.searcher.corpus.card(h.unit) for h in hits) if c]
        if not cards:
            raise ReferenceError(
                "No card in the index to grade against: run `coach ingest`, or pass a "
                "reference answer."
            )
        similarities = [self.question_similarity(question, c) for c in cards]
        best = int(np.argmax(similarities))
        return cards[best], float(similarities[best])

    def question_similarity(self, question: str, card: QuestionCard) -> float:
        """Best e5 cosine between the question and any phrasing of the card
        (symmetric task, so the query prefix on both sides)."""
        phrasings = list(dict.fromkeys([card.title, card.question, *card.variants]))
        embedder = self.searcher.embedder
        vectors = embedder.encode([question, *phrasings], self.settings.embedding.query_prompt)
        return float(np.max(vectors[1:] @ vectors[0]))


def card_profile(card: QuestionCard) -> str:
    return card.question + "\n" + "、".join(p.label for p in card.key_points)


def _remember(cache: dict, key: object, value: object, limit: int) -> None:
    """Insert, dropping the oldest entries beyond ``limit`` (a long batch of distinct
    questions must not grow memory without bound)."""
    cache[key] = value
    while len(cache) > limit:
        cache.pop(next(iter(cache)))
