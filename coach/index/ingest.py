"""``coach ingest``: files in, cards + Chroma vectors + BM25 index out.

Idempotent by construction: every record has a content hash, and only records whose
hash is new are embedded and written; records that no longer exist are deleted. So a
re-run on the same files changes nothing, and a changed file replaces exactly the
records derived from it (including merged cards it contributes to).
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import BaseModel, Field
from tqdm import tqdm

from coach.config import Settings
from coach.corpus.catalog import Catalog, Corpus, write_atomic
from coach.corpus.loader import CorpusFileError, expand_paths, read_document
from coach.corpus.parser import make_splitter, parse_text
from coach.index.bm25 import BM25Index
from coach.index.documents import IndexRecord, build_records, collect_definitions
from coach.index.embeddings import get_embedder
from coach.index.store import drop_collection, open_collection, stored_hashes


class FileFailure(BaseModel):
    file: str
    error: str


class IngestReport(BaseModel):
    files_parsed: list[str] = Field(default_factory=list)
    files_unchanged: list[str] = Field(default_factory=list)
    files_failed: list[FileFailure] = Field(default_factory=list)
    cards: int = 0
    raw_cards: int = 0
    merged_duplicates: int = 0
    article_chunks: int = 0
    records: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted)


def catalog_path(settings: Settings) -> Path:
    return settings.index_dir / "catalog.json"


def corpus_path(settings: Settings) -> Path:
    return settings.index_dir / "corpus.json"


def bm25_dir(settings: Settings) -> Path:
    return settings.index_dir / "bm25"


def _parse_files(
    paths: list[Path], catalog: Catalog, settings: Settings, report: IngestReport
) -> None:
    files, errors = expand_paths(paths)
    report.files_failed += [FileFailure(file=str(e.path), error=e.reason) for e in errors]
    splitter = make_splitter(settings.article_chunk_size, settings.article_chunk_overlap)
    for path in tqdm(files, desc="parse", unit="file", disable=len(files) < 2):
        key = str(path.resolve())
        try:
            text = read_document(path, settings.max_file_bytes)
            parsed = parse_text(path.name, text, splitter)
        except CorpusFileError as exc:
            report.files_failed.append(FileFailure(file=str(path), error=exc.reason))
            continue
        known = catalog.documents.get(key)
        if known is not None and known.sha256 == parsed.sha256:
            report.files_unchanged.append(str(path))
            continue
        if not parsed.cards and not parsed.chunks:
            report.files_failed.append(
                FileFailure(file=str(path), error="no questions or text found in it")
            )
            continue
        catalog.documents[key] = parsed
        report.files_parsed.append(str(path))


def _write_vectors(
    records: list[IndexRecord], settings: Settings, rebuild: bool, report: IngestReport
) -> None:
    embedder = get_embedder(settings)
    if rebuild:
        drop_collection(settings)
    collection = open_collection(settings, settings.embedding_model)
    existing = stored_hashes(collection)
    wanted = {r.id: r for r in records}
    todo = [r for r in records if existing.get(r.id) != r.content_hash]
    stale = [i for i in existing if i not in wanted]
    report.added = sum(r.id not in existing for r in todo)
    report.updated = len(todo) - report.added
    report.deleted = len(stale)
    report.unchanged = len(records) - len(todo)
    if stale:
        collection.delete(ids=stale)
    started = time.perf_counter()
    with tqdm(total=len(todo), desc="embed", unit="text", disable=not todo) as bar:
        for as_query in (True, False):
            # Length-sorted batches pad least (sentence-transformers does the same inside
            # one encode call); unsorted, ingest ran at 0.65x the speed of bare encoding.
            group = sorted(
                (r for r in todo if r.embed_as_query == as_query), key=lambda r: len(r.text)
            )
            done = 0
            for vectors in embedder.encode_batches([r.text for r in group], as_query):
                batch = group[done : done + len(vectors)]
                collection.upsert(
                    ids=[r.id for r in batch],
                    embeddings=vectors.tolist(),
                    documents=[r.text for r in batch],
                    metadatas=[r.metadata() for r in batch],
                )
                done += len(batch)
                bar.update(len(batch))
    report.embed_seconds = time.perf_counter() - started


def ingest(paths: list[Path], settings: Settings, rebuild: bool = False) -> IngestReport:
    """Parse ``paths`` into the catalog, then bring Chroma and BM25 in line with it."""
    started = time.perf_counter()
    report = IngestReport()
    catalog = Catalog() if rebuild else Catalog.load(catalog_path(settings))
    _parse_files(paths, catalog, settings, report)

    corpus: Corpus = catalog.build(settings.dedupe_threshold)
    splitter = make_splitter(settings.card_body_chunk_size, settings.article_chunk_overlap)
    records = build_records(corpus, splitter, settings.definition_term_max_chars)
    report.cards = len(corpus.cards)
    report.raw_cards = corpus.raw_cards
    report.merged_duplicates = corpus.merged_duplicates
    report.article_chunks = len(corpus.chunks)
    report.records = len(records)

    _write_vectors(records, settings, rebuild, report)
    # The catalog is saved only once the vectors are written: if embedding fails, the
    # next run sees the files as new and does the work again; nothing is half-recorded.
    if report.changed or rebuild or not bm25_dir(settings).exists():
        terms = sorted(collect_definitions(corpus.cards, settings.definition_term_max_chars))
        BM25Index.build(records, terms).save(bm25_dir(settings))
    write_atomic(corpus_path(settings), corpus.model_dump_json())
    catalog.save(catalog_path(settings))
    report.seconds = time.perf_counter() - started
    return report
