"""Corpus parsing, the encoder, the vector store and hybrid search."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from coach.config.section import Section


class EmbeddingSettings(Section):
    """The sentence-transformers encoder (coach/index/embeddings.py, the evidence score)."""

    env_prefix: ClassVar[str] = "COACH_EMBEDDING_"

    model: str = "e5-small-multilingual"
    """A pack name (see ``coach model list``), a local sentence-transformers directory,
    or a hub model name when a hub is reachable."""
    batch_size: int = 32
    query_prompt: str = "query: "
    passage_prompt: str = "passage: "
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    """Precision of the encoder's matrix products. ``auto``: bfloat16 (autocast, layer
    norms stay float32) where the CPU has bf16 instructions, float32 elsewhere. Measured
    2026-12-03 on an AVX512-BF16 CPU: 1.9x the answers per second, token vectors at
    cosine 0.99999 to float32's (``coach bench grade``)."""


class ChromaSettings(Section):
    """The vector store (coach/index/store.py)."""

    env_prefix: ClassVar[str] = "COACH_CHROMA_"

    url: str | None = None
    """When set (e.g. ``http://127.0.0.1:8001``), talk to a Chroma server instead of the
    embedded on-disk store."""
    collection: str = "coach"


class CorpusSettings(Section):
    """Parsing and chunking the documents (coach/corpus, coach/index/documents.py)."""

    env_prefix: ClassVar[str] = "COACH_"

    dedupe_threshold: float = 0.72
    """Character-bigram Jaccard similarity of normalised questions above which two
    questions are the same question asked twice."""
    article_chunk_size: int = 600
    article_chunk_overlap: int = 80
    card_body_chunk_size: int = 900
    definition_term_max_chars: int = 12
    """Key-point labels up to this long count as terms whose definitions enrich the card
    titled with them (see coach/index/documents.py)."""
    max_file_bytes: int = 5_000_000
    generate_min_chars: int = 300
    """An article section needs this much text before `coach generate-cards` asks the
    LLM for a question about it (less is a heading and a sentence)."""
    accept_generated: bool = False
    """Generated cards join interviews only once accepted (`coach accept-cards`); true
    accepts them all (for a user who trusts the model that wrote them)."""


class SearchSettings(Section):
    """Hybrid retrieval (coach/index/retriever.py)."""

    env_prefix: ClassVar[str] = "COACH_SEARCH_"
    env_names: ClassVar[dict[str, str]] = {
        "fusion": "COACH_FUSION",
        "hybrid_alpha": "COACH_HYBRID_ALPHA",
        "rrf_k": "COACH_RRF_K",
    }

    k: int = 5
    candidates: int = 40
    fusion: Literal["convex", "rrf"] = "convex"
    """How dense and BM25 results combine (see coach/index/retriever.py for why convex)."""
    hybrid_alpha: float = Field(default=0.6, ge=0.0, le=1.0)
    """Weight of the dense retriever in convex fusion; BM25 gets 1 - alpha. 0.5-0.8 all
    gave recall@5 >= 0.91 on eval/retrieval.jsonl; 0.6 had the best MRR."""
    rrf_k: int = 60
