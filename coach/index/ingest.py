"""``coach ingest``: files in, cards + Chroma vectors + BM25 index out.

Idempotent by construction: every record has a content hash, and only records whose
hash is new are embedded and written; records that no longer exist are deleted. So a
re-run on the same files changes nothing, and a changed file replaces exactly the
records derived from it (including merged cards it contributes to).

The catalog remembers every file ever ingested, so the index never holds more than the
files on disk: on every run a known file that is gone, or that now yields no questions
or text, is dropped from the catalog, and with it its cards from Chroma and BM25 (merged
cards are rebuilt from the remaining files, exactly as a fresh ingest of them would).
Files that are merely not named on this run are left alone.
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import BaseModel, Field

from coach.common.files import write_text_atomic
from coach.config import Settings
from coach.corpus import generated
from coach.corpus.catalog import Catalog, Corpus
from coach.corpus.loader import (
    CorpusFile,
    CorpusFileError,
    expand_paths,
    read_bytes_bounded,
    read_document,
    safe_text,
)
from coach.corpus.models import QuestionCard
from coach.corpus.parser import make_splitter, parse_text
from coach.index.bm25 import BM25Index
from coach.index.documents import IndexRecord, build_records, collect_definitions
from coach.index.embeddings import get_embedder
from coach.index.store import drop_collection, open_collection, peek_hashes, stored_hashes
from coach.progress import progress_bar

GONE = "the file is gone"
EMPTY = "it now yields no questions or text"
KEPT = "its cards from the last ingest stay in the index"


class FileFailure(BaseModel):
    file: str
    error: str


class FileRemoval(BaseModel):
    """A file the catalog knew whose cards this run took out of the index."""

    file: str
    reason: str


class IngestReport(BaseModel):
    files_parsed: list[str] = Field(default_factory=list)
    files_unchanged: list[str] = Field(default_factory=list)
    files_failed: list[FileFailure] = Field(default_factory=list)
    files_removed: list[FileRemoval] = Field(default_factory=list)
    rebuilt: bool = False
    cards: int = 0
    raw_cards: int = 0
    merged_duplicates: int = 0
    article_chunks: int = 0
    records: int = 0
    # added/updated/deleted/unchanged compare the index after this run with the index
    # before it (a rebuild included); ``embedded`` is how many records were embedded now.
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    embedded: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    stages: dict[str, float] = Field(default_factory=dict)
    """Seconds per step (read+parse, dedupe+topics, records, embed+store, bm25, save):
    where an ingest's time goes, printed by ``coach bench ingest``."""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted)


def _is_gone(path: Path) -> bool:
    """True only when the file is really not there.

    Any other error (a permission problem, a disconnected share) is not proof that the
    user deleted the file, so its cards are kept rather than dropped.
    """
    try:
        return not path.is_file()
    except OSError:
        return False


def _is_blank(path: Path) -> bool:
    """An existing regular file holding nothing but whitespace (or a byte-order mark);
    read bounded, like every read of a user's file."""
    try:
        raw = read_bytes_bounded(path, 1 << 16)
    except CorpusFileError:
        return False
    return not raw.decode("utf-8-sig", errors="replace").strip()


def _within(key: str, path: Path) -> bool:
    """Whether catalog ``key`` is ``path`` or lies inside the folder ``path``."""
    target = Path(key)
    base = path.resolve()
    return target == base or base in target.parents


def _unique_name(file: CorpusFile, key: str, catalog: Catalog) -> str:
    """``file.name``, made longer with its parent folders while another indexed file
    (ingested from another folder) already cites that name: card ids hash the name, and
    two files with one id would answer each other's questions."""
    taken = {doc.file for other, doc in catalog.documents.items() if other != key}
    name = file.name
    # the folders above the one the name is relative to
    for parent in file.path.resolve().parents[name.count("/") :]:
        if name not in taken or not parent.name:
            break
        name = f"{safe_text(parent.name)}/{name}"
    return name


def _parse_files(
    files: list[CorpusFile],
    catalog: Catalog,
    known: Catalog,
    settings: Settings,
    report: IngestReport,
    force: bool,
) -> None:
    """Read ``files`` into ``catalog``; ``known`` is the catalog as the last run left it.

    ``force`` re-parses files whose text is unchanged too (a rebuild: the parser or its
    settings may have changed since).
    """
    splitter = make_splitter(
        settings.corpus.article_chunk_size, settings.corpus.article_chunk_overlap
    )
    bar = progress_bar(files, desc="parse", unit="file", disable=len(files) < 2, settings=settings)
    for file in bar:
        path = file.path
        bar.set_postfix_str(file.name, refresh=False)
        key = safe_text(path.resolve())
        previous = known.documents.get(key)
        try:
            text = read_document(path, settings.corpus.max_file_bytes)
            parsed = parse_text(_unique_name(file, key, catalog), text, splitter)
        except CorpusFileError as exc:
            if previous is not None and _is_blank(path):
                catalog.documents.pop(key, None)
                report.files_removed.append(FileRemoval(file=safe_text(path), reason=EMPTY))
            elif previous is not None:
                # Unreadable now (binary, too big, bad encoding) says nothing about what
                # the user wants indexed: keep the last good parse and say so.
                catalog.documents[key] = previous
                error = f"{exc.reason}; {KEPT}"
                report.files_failed.append(FileFailure(file=safe_text(path), error=error))
            else:
                report.files_failed.append(FileFailure(file=safe_text(path), error=exc.reason))
            continue
        if (
            not force
            and previous is not None
            and previous.sha256 == parsed.sha256
            and previous.file == parsed.file
        ):
            report.files_unchanged.append(safe_text(path))
            continue
        if not parsed.cards and not parsed.chunks:
            if previous is not None:
                catalog.documents.pop(key, None)
                report.files_removed.append(FileRemoval(file=safe_text(path), reason=EMPTY))
            else:
                report.files_failed.append(
                    FileFailure(file=safe_text(path), error="no questions or text found in it")
                )
            continue
        catalog.documents[key] = parsed
        report.files_parsed.append(safe_text(path))
    bar.close()


def _plan(
    paths: list[Path], known: Catalog, rebuild: bool, report: IngestReport
) -> tuple[Catalog, list[CorpusFile]]:
    """The catalog to start from and the files to read.

    Every known file is checked for existence, named or not: a deleted file's cards must
    not stay searchable. Incremental runs read only the files named; a rebuild also
    re-reads every other file the catalog knows, so ``--rebuild PATH`` keeps them.
    """
    expanded, errors = expand_paths(paths)
    files: list[CorpusFile] = []
    named: set[str] = set()
    for file in expanded:  # a file named twice (itself and its folder) is read once
        key = safe_text(file.path.resolve())
        if key not in named:
            named.add(key)
            files.append(file)
    catalog = Catalog(documents=dict(known.documents))
    gone = [key for key in known.documents if key not in named and _is_gone(Path(key))]
    for key in gone:
        del catalog.documents[key]
        report.files_removed.append(FileRemoval(file=key, reason=GONE))
    # A named path that is missing (or a folder now empty) because known files were
    # deleted is explained by the removals above; it is not a failure.
    report.files_failed += [
        FileFailure(file=safe_text(e.path), error=e.reason)
        for e in errors
        if not any(_within(key, e.path) for key in gone)
    ]
    if rebuild:
        files += [
            CorpusFile(Path(key), doc.file)
            for key, doc in known.documents.items()
            if key not in named and key not in gone
        ]
        # Re-read from scratch; _parse_files puts back a known file it cannot read.
        catalog = Catalog()
    return catalog, files


def _write_vectors(
    records: list[IndexRecord], settings: Settings, rebuild: bool, report: IngestReport
) -> None:
    embedder = get_embedder(settings)
    if rebuild:
        # Counts compare with what was stored before this run, so a rebuild reports what
        # it changed instead of calling every record new and nothing deleted. Read
        # without the model check: a rebuild is how a model change is made.
        before = peek_hashes(settings)
        drop_collection(settings)
        collection = open_collection(settings, settings.embedding.model)
        existing: dict[str, str] = {}
    else:
        collection = open_collection(settings, settings.embedding.model)
        existing = before = stored_hashes(collection)
    wanted = {r.id: r for r in records}
    report.added = sum(i not in before for i in wanted)
    report.updated = sum(i in before and before[i] != r.content_hash for i, r in wanted.items())
    report.deleted = sum(i not in wanted for i in before)
    report.unchanged = len(wanted) - report.added - report.updated
    todo = [r for r in wanted.values() if existing.get(r.id) != r.content_hash]
    stale = [i for i in existing if i not in wanted]
    report.embedded = len(todo)
    if stale:
        collection.delete(ids=stale)
    started = time.perf_counter()
    with progress_bar(
        total=len(todo), desc="embed", unit="text", disable=not todo, settings=settings
    ) as bar:
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
                if batch and batch[-1].files:  # which file's records are being embedded
                    bar.set_postfix_str(batch[-1].files[0], refresh=False)
                bar.update(len(batch))
    report.embed_seconds = time.perf_counter() - started


def _generated_cards(corpus: Corpus, settings: Settings) -> list[QuestionCard]:
    """Cards ``coach generate-cards`` wrote for sections that are still as they were."""
    path = settings.paths.generated_cards_file
    if not path.exists():
        return []
    current = generated.sections(corpus.chunks, settings.corpus.generate_min_chars)
    return generated.as_cards(generated.load(path), current, settings.corpus.accept_generated)


class _Stages:
    """Records the seconds since the last lap under a step's name."""

    def __init__(self, report: IngestReport) -> None:
        self.report = report
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.report.stages[name] = round(now - self.last, 3)
        self.last = now


def ingest(paths: list[Path], settings: Settings, rebuild: bool = False) -> IngestReport:
    """Parse ``paths`` into the catalog, then bring Chroma and BM25 in line with it.

    ``rebuild`` re-reads every file the catalog knows as well as ``paths`` and re-embeds
    everything (for a new embedding model or parser); it never forgets a file that is
    still on disk.
    """
    started = time.perf_counter()
    report = IngestReport(rebuilt=rebuild)
    clock = _Stages(report)
    known = Catalog.load(settings.paths.catalog_file)
    catalog, files = _plan(paths, known, rebuild, report)
    _parse_files(files, catalog, known, settings, report, force=rebuild)
    clock.lap("read+parse")

    corpus: Corpus = catalog.build(settings.corpus.dedupe_threshold)
    corpus.cards.extend(_generated_cards(corpus, settings))
    clock.lap("dedupe+topics")
    splitter = make_splitter(
        settings.corpus.card_body_chunk_size, settings.corpus.article_chunk_overlap
    )
    records = build_records(corpus, splitter, settings.corpus.definition_term_max_chars)
    report.cards = len(corpus.cards)
    report.raw_cards = corpus.raw_cards
    report.merged_duplicates = corpus.merged_duplicates
    report.article_chunks = len(corpus.chunks)
    report.records = len(records)
    clock.lap("records")

    _write_vectors(records, settings, rebuild, report)
    clock.lap("embed+store")
    # The catalog is saved only once the vectors are written: if embedding fails, the
    # next run sees the files as new and does the work again; nothing is half-recorded.
    if report.changed or rebuild or not settings.paths.bm25_dir.exists():
        terms = sorted(collect_definitions(corpus.cards, settings.corpus.definition_term_max_chars))
        BM25Index.build(records, terms).save(settings.paths.bm25_dir)
    clock.lap("bm25")
    write_text_atomic(settings.paths.corpus_file, corpus.model_dump_json())
    catalog.save(settings.paths.catalog_file)
    clock.lap("save")
    report.seconds = time.perf_counter() - started
    return report
