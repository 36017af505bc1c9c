"""Retrieval quality: does a paraphrased question find the card it means?

Each case names the card by the ``file:line`` of its heading; a merged card matches if
any of its sources is expected, so the set survives changes to merging.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from coach.evaluation.metrics import mean_reciprocal_rank, recall_at_k
from coach.index.retriever import Filters, HybridSearcher, Mode

MODES: tuple[Mode, ...] = ("dense", "bm25", "hybrid")


class RetrievalCase(BaseModel):
    query: str
    expect: list[str]
    style: str = ""


class RetrievalScores(BaseModel):
    mode: str
    cases: int
    recall_at_1: float
    recall_at_5: float
    mrr: float
    misses: list[str]
    ranks: list[int | None] = []
    """Rank of the expected card per case, in case order (None: not in the top ``depth``)."""
    styles: list[str] = []
    """Each case's phrasing style (colloquial, english, ...), for per-style breakdowns."""


def load_cases(path: Path) -> list[RetrievalCase]:
    lines = path.read_text("utf-8").splitlines()
    return [RetrievalCase(**json.loads(line)) for line in lines if line.strip()]


def rank_of(searcher: HybridSearcher, case: RetrievalCase, mode: Mode, depth: int) -> int | None:
    """1-based rank of the first hit that is an expected card, or None."""
    hits = searcher.search(case.query, depth, Filters(kind="card"), mode)
    for rank, hit in enumerate(hits, 1):
        card = searcher.corpus.card(hit.unit)
        if card and any(s.ref() in case.expect for s in card.sources):
            return rank
    return None


def evaluate(
    searcher: HybridSearcher, cases: list[RetrievalCase], mode: Mode, depth: int = 10
) -> RetrievalScores:
    ranks = [rank_of(searcher, case, mode, depth) for case in cases]
    return RetrievalScores(
        mode=mode,
        cases=len(cases),
        recall_at_1=recall_at_k(ranks, 1),
        recall_at_5=recall_at_k(ranks, 5),
        mrr=mean_reciprocal_rank(ranks),
        misses=[c.query for c, r in zip(cases, ranks, strict=True) if r is None or r > 5],
        ranks=ranks,
        styles=[c.style for c in cases],
    )


def evaluate_all(searcher: HybridSearcher, cases: list[RetrievalCase]) -> list[RetrievalScores]:
    """Every retriever on the same cases, dense and BM25 first so hybrid reads as the sum."""
    return [evaluate(searcher, cases, mode) for mode in MODES]
