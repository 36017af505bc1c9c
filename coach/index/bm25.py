"""The lexical half of hybrid search: BM25 over jieba tokens, saved beside Chroma.

Dense retrieval misses exact terms (acronyms, product names); BM25 misses paraphrases.
Fusing both beats either (see eval/README.md).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import bm25s
import numpy as np

from coach.common.files import write_text_atomic
from coach.index.documents import IndexRecord
from coach.index.tokenize import add_terms, tokenize

_RECORDS = "records.json"
_TERMS = "terms.json"


class BM25Index:
    def __init__(
        self, records: list[IndexRecord], model: bm25s.BM25, terms: list[str] | None = None
    ) -> None:
        self.records = records
        self.model = model
        self.terms = terms or []

    @classmethod
    def build(cls, records: list[IndexRecord], terms: list[str] | None = None) -> BM25Index:
        add_terms(terms or [])
        model = bm25s.BM25()
        # bm25s needs at least one token per document, and at least one document: an
        # empty one gets a placeholder token, and an empty index (every file removed) one
        # placeholder document, which ``search`` never returns because it has no record.
        corpus = [tokenize(r.text) or ["∅"] for r in records] or [["∅"]]
        model.index(corpus, show_progress=False)
        return cls(records, model, terms)

    def save(self, directory: Path) -> None:
        tmp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        self.model.save(str(tmp), show_progress=False)
        write_text_atomic(tmp / _RECORDS, json.dumps([r.model_dump() for r in self.records]))
        write_text_atomic(tmp / _TERMS, json.dumps(self.terms, ensure_ascii=False))
        shutil.rmtree(directory, ignore_errors=True)
        tmp.rename(directory)

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        records = [IndexRecord(**r) for r in json.loads((directory / _RECORDS).read_text("utf-8"))]
        model = bm25s.BM25.load(str(directory), show_progress=False)
        terms_file = directory / _TERMS
        terms = json.loads(terms_file.read_text("utf-8")) if terms_file.exists() else []
        add_terms(terms)
        return cls(records, model, terms)

    def search(
        self, query: str, n: int, allowed: np.ndarray | None = None
    ) -> list[tuple[IndexRecord, float]]:
        """Top ``n`` records with a positive score, restricted to the ``allowed`` mask."""
        tokens = tokenize(query)
        if not tokens or not self.records:
            return []
        scores = np.asarray(self.model.get_scores(tokens), dtype=np.float32)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        top = np.argsort(-scores)[:n]
        return [(self.records[i], float(scores[i])) for i in top if scores[i] > 0]
