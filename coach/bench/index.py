"""Index speed: ingest against a bare encode, and search latency per retriever. Each
compares coach with the bare library in the same run, so the figure is a ratio that means
something on any machine."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel

from coach.config import Settings
from coach.index.embeddings import get_embedder
from coach.index.ingest import IngestReport, ingest
from coach.index.retriever import HybridSearcher, Mode


class IngestBench(BaseModel):
    wall_seconds: float
    embed_seconds: float
    bare_encode_seconds: float
    wall_ratio: float
    """The whole ingest (read, parse, dedupe, records, embed, store, BM25, save) over a
    bare ``SentenceTransformer.encode`` of the same texts: the issue-28 figure (<= 1.5)."""
    texts: int
    chars: int
    coach_texts_per_second: float
    bare_texts_per_second: float
    ratio: float
    """coach's embedding throughput over a bare ``SentenceTransformer.encode``."""
    stages: dict[str, float]
    """Seconds per ingest step in the best round: where the time goes."""
    cards: int
    merged_duplicates: int
    article_chunks: int


class SearchBench(BaseModel):
    mode: str
    queries: int
    p50_ms: float
    p95_ms: float
    mean_ms: float


def bench_ingest(settings: Settings, paths: list[Path], rounds: int = 2) -> IngestBench:
    """Full ingests into scratch data dirs alternated with bare encodes of the same texts.

    The bare run encodes each group of records with the prompt ingest uses for it, in one
    ``SentenceTransformer.encode`` call per group. Rounds alternate so that a load spike
    from another process hits both sides; the best round of each is compared.
    """
    from coach.index.bm25 import BM25Index

    embedder = get_embedder(settings)
    embedder.encode(["warm up"], embedder.passage_prompt)
    coach_seconds: list[float] = []
    wall_seconds: list[float] = []
    bare_seconds: list[float] = []
    reports: list[IngestReport] = []
    report: IngestReport | None = None
    records = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="coach-bench-") as scratch:
            scratch_settings = settings.model_copy(
                update={
                    "data_dir": Path(scratch),
                    "models_dir_override": settings.paths.models_dir,
                    "chroma_url": None,
                }
            )
            report = ingest(paths, scratch_settings, rebuild=True)
            records = BM25Index.load(scratch_settings.paths.bm25_dir).records
        coach_seconds.append(report.embed_seconds)
        wall_seconds.append(report.seconds)
        reports.append(report)
        started = time.perf_counter()
        for as_query, prompt in ((True, embedder.query_prompt), (False, embedder.passage_prompt)):
            embedder.model.encode(
                [r.text for r in records if r.embed_as_query == as_query],
                prompt=prompt,
                batch_size=embedder.batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        bare_seconds.append(time.perf_counter() - started)
    assert report is not None
    best = min(reports, key=lambda r: r.seconds)
    texts = [r.text for r in records]
    coach_rate = len(texts) / min(coach_seconds)
    bare_rate = len(texts) / min(bare_seconds)
    return IngestBench(
        wall_seconds=best.seconds,
        embed_seconds=best.embed_seconds,
        bare_encode_seconds=min(bare_seconds),
        wall_ratio=min(wall_seconds) / min(bare_seconds),
        texts=len(texts),
        chars=sum(len(t) for t in texts),
        coach_texts_per_second=coach_rate,
        bare_texts_per_second=bare_rate,
        ratio=coach_rate / bare_rate,
        stages=best.stages,
        cards=report.cards,
        merged_duplicates=report.merged_duplicates,
        article_chunks=report.article_chunks,
    )


def bench_search(
    searcher: HybridSearcher, queries: list[str], mode: Mode, rounds: int = 3
) -> SearchBench:
    searcher.search(queries[0], mode=mode)  # warm caches (jieba dictionary, model)
    timings = []
    for _ in range(rounds):
        for query in queries:
            started = time.perf_counter()
            searcher.search(query, mode=mode)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return SearchBench(
        mode=mode,
        queries=len(timings),
        p50_ms=statistics.median(timings),
        p95_ms=timings[min(len(timings) - 1, int(0.95 * len(timings)))],
        mean_ms=statistics.fmean(timings),
    )
