"""Grade a file of answers concurrently, resumably, and write the output and the report.

The flow: read and validate the whole file (file-level problems stop here, before any
model call) -> check the output folder is writable -> lock the output (one run at a time)
-> refuse to replace existing files unless told to -> open the journal (refuses a stale
or foreign one) -> grade the rows the journal lacks with ``concurrency`` workers,
appending each finished row to the journal -> write the output in input order from the
journal, atomically -> write the HTML report -> delete the journal. A kill at any point
loses at most the rows in flight; a failed write keeps the journal for ``--resume``.

Existing files: an output or report that already exists is replaced only with
``overwrite``, except when a journal of this output exists: then the files are taken to
be that interrupted run's own (it passed this check before it created the journal, or
wrote them itself just before it failed), and ``--resume`` replaces them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from langchain_core.callbacks import get_usage_metadata_callback
from tqdm import tqdm

from coach.batch.breaker import LlmBreaker
from coach.batch.export import output_format, write_results
from coach.batch.journal import Journal, JournalHeader, file_sha256, output_lock
from coach.batch.models import (
    BatchError,
    BatchInterrupted,
    BatchReport,
    BatchResult,
    BatchRow,
)
from coach.batch.paths import RunFiles, check_run_files
from coach.batch.reader import read_batch
from coach.batch.report import render_report
from coach.common.files import write_text_atomic
from coach.config import Settings, get_settings
from coach.corpus.topics import tag
from coach.grading.models import AsyncGrader, Grade
from coach.progress import progress_bar

logger = logging.getLogger(__name__)
OnProgress = Callable[[int, int], None]
"""Called with (rows done, rows in the file) each time a finished row is journaled."""


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_output_location(output_path: Path, report_path: Path) -> None:
    """Before any grading: the output and its report must be file names in a folder this
    process can write (created when missing), so a batch of hours does not end in an
    error it could have given at the start. Disk space cannot be promised up front; a
    write that fails at the end keeps the journal for ``--resume``."""
    for path, role in ((output_path, "--output"), (report_path, "The HTML report path")):
        if path.is_dir():
            raise BatchError(
                f"{role} {path} is a folder, not a file name; give a file name such as "
                f"{path / ('graded' + output_path.suffix)}. Nothing was graded."
            )
    folder = output_path.parent
    blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise BatchError(
            f"Cannot put --output in {folder}: {blocker} is a file, not a folder. "
            "Choose another --output. Nothing was graded."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".coach-write-check-"):
            pass
    except OSError as exc:
        raise BatchError(
            f"Cannot write to the folder {folder} ({_reason(exc)}); make it writable or "
            "choose another --output. Nothing was graded."
        ) from exc


def check_replaceable(paths: list[Path], *, overwrite: bool, own: bool) -> None:
    """Existing output files are the user's work: replace them only with ``overwrite``
    or when they are the interrupted run's own (``own``: its journal exists)."""
    existing = [p for p in paths if p.exists()]
    if not existing:
        return
    if not (overwrite or own):
        names = " and ".join(str(p) for p in existing)
        verb, them = ("exists", "it") if len(existing) == 1 else ("exist", "them")
        why = (
            " (the HTML report is written beside the output, named after it)"
            if existing[-1] != paths[0]
            else ""
        )
        raise BatchError(
            f"{names} already {verb}{why}. Pass --overwrite to replace {them}, or choose "
            "another --output. Nothing was graded."
        )
    for path in existing:
        if not os.access(path, os.W_OK):
            raise BatchError(
                f"{path} exists and cannot be replaced (it is read-only or immutable); make "
                "it writable or choose another --output. Nothing was graded."
            )


@contextlib.contextmanager
def _keeping_journal(path: Path, journal: Journal, rows: int) -> Iterator[None]:
    """Writing ``path`` failed (disk full, folder made read-only meanwhile): one message
    that says where the graded rows are and how to finish, instead of a traceback. The
    journal is not removed, so ``--resume`` writes the files without grading again."""
    try:
        yield
    except OSError as exc:
        raise BatchError(
            f"Could not write {path}: {_reason(exc)}. All {rows} graded rows are kept in "
            f"{journal.path}; fix the problem (free disk space, make the folder or file "
            "writable) and run the same command again with --resume: it writes the output "
            "without grading anything again."
        ) from exc


def run_batch(
    input_path: Path,
    output_path: Path,
    *,
    settings: Settings | None = None,
    use_llm: bool = True,
    concurrency: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    grader: AsyncGrader | None = None,
    progress: bool = True,
    on_progress: OnProgress | None = None,
    sheet: str | None = None,
    audio_dir: Path | None = None,
) -> BatchReport:
    """Grade every row of ``input_path`` into ``output_path`` (+ an HTML report beside it).

    Raises BatchError (or a subclass) with a message for the user when the input, the
    output name or location, an existing output (without ``overwrite``), another run of
    the same output (BatchBusy) or the journal is wrong, when writing fails, and
    BatchInterrupted on Ctrl-C.
    """
    settings = settings or get_settings()
    try:
        return asyncio.run(
            arun_batch(
                input_path,
                output_path,
                settings=settings,
                use_llm=use_llm,
                concurrency=concurrency,
                resume=resume,
                overwrite=overwrite,
                grader=grader,
                progress=progress,
                on_progress=on_progress,
                sheet=sheet,
                audio_dir=audio_dir,
            )
        )
    except KeyboardInterrupt as exc:
        raise BatchInterrupted(
            f"Interrupted. Finished rows are kept in {settings.paths.batch_journal(output_path)}; "
            "run the same command with --resume to grade only the rest."
        ) from exc


async def arun_batch(
    input_path: Path,
    output_path: Path,
    *,
    settings: Settings | None = None,
    use_llm: bool = True,
    concurrency: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    grader: AsyncGrader | None = None,
    progress: bool = True,
    on_progress: OnProgress | None = None,
    sheet: str | None = None,
    audio_dir: Path | None = None,
) -> BatchReport:
    """``run_batch`` for callers already inside an event loop (the UI)."""
    started = time.perf_counter()
    settings = settings or get_settings()
    concurrency = concurrency or settings.batch.concurrency
    if concurrency < 1:
        raise BatchError(f"concurrency must be at least 1, not {concurrency}.")
    output_format(output_path)
    files = RunFiles.of(output_path, settings)
    check_run_files(input_path, files)
    notes: list[str] = []
    rows = read_batch(input_path, settings, sheet=sheet, audio_dir=audio_dir, notes=notes)
    journal_path, report_path = files.journal, files.report
    check_output_location(output_path, report_path)
    if grader is None and any(not r.error and not r.reference for r in rows):
        _check_index_usable(settings)
    header = JournalHeader(
        input=str(input_path),
        input_sha256=file_sha256(input_path),
        use_llm=use_llm,
        sheet=sheet,
    )
    with output_lock(files.lock, output_path):
        check_run_files(input_path, files)  # a link may have appeared meanwhile
        check_replaceable(
            [output_path, report_path], overwrite=overwrite, own=journal_path.exists()
        )
        journal = _open_journal(journal_path, header, resume)
        return await _run_locked(
            rows,
            journal,
            notes=notes,
            input_path=input_path,
            output_path=output_path,
            report_path=report_path,
            settings=settings,
            use_llm=use_llm,
            concurrency=concurrency,
            resume=resume,
            grader=grader,
            progress=progress,
            on_progress=on_progress,
            started=started,
        )


def _open_journal(path: Path, header: JournalHeader, resume: bool) -> Journal:
    try:
        return Journal.open(path, header, resume=resume)
    except OSError as exc:
        raise BatchError(
            f"Cannot open the journal {path} ({_reason(exc)}); make its folder writable or "
            "choose another --output. Nothing was graded."
        ) from exc


async def _run_locked(
    rows: list[BatchRow],
    journal: Journal,
    *,
    notes: list[str],
    input_path: Path,
    output_path: Path,
    report_path: Path,
    settings: Settings,
    use_llm: bool,
    concurrency: int,
    resume: bool,
    grader: AsyncGrader | None,
    progress: bool,
    on_progress: OnProgress | None,
    started: float,
) -> BatchReport:
    """Grade, write, clean up: everything that happens while this run owns the output."""
    if resume and not journal.done:
        notes.append("Nothing to resume: no finished rows in a journal; graded every row.")
    try:
        skipped = sum(1 for r in rows if r.id in journal.done)
        pending = [r for r in rows if r.id not in journal.done]
        if grader is None and any(not r.error for r in pending):
            grader = _default_grader(settings, use_llm, notes)
        add_references = getattr(grader, "add_references", None)
        if add_references is not None:  # the same IDF pool whatever is resumed
            add_references([r.reference for r in rows if r.reference and not r.error])
        for note in notes:
            if progress:
                tqdm.write(note)
        breaker = LlmBreaker(
            settings.batch.llm_give_up_after,
            settings.llm.timeout,
            announce=tqdm.write if progress else None,
        )
        grading_started = time.perf_counter()
        with (
            get_usage_metadata_callback() as usage,
            progress_bar(
                total=len(rows),
                initial=skipped,
                unit="answer",
                desc="grading",
                disable=not progress,
                dynamic_ncols=True,
                settings=settings,
            ) as bar,
        ):
            if pending:
                finished = _row_finished(on_progress, journal, len(rows))
                await _grade_in_chunks(
                    pending,
                    grader or _NoGrader(),
                    journal,
                    concurrency,
                    bar,
                    settings,
                    finished,
                    breaker,
                )
        if use_llm and breaker.unavailable:
            notes.append(
                f"{breaker.unavailable} rows were graded by the rubric alone (flag "
                "llm_unavailable): the model server was down or gave no verdict within "
                f"{settings.llm.timeout:g} s (COACH_LLM_TIMEOUT, each row's bound)."
            )
        gave_up = breaker.report_note()
        if use_llm and gave_up:
            notes.append(gave_up)
        grading_seconds = time.perf_counter() - grading_started
    finally:
        journal.close()

    results = [journal.done[r.id] for r in rows]
    scores = [r.score for r in results if r.score is not None]
    errors = sum(1 for r in results if r.status == "error")
    flags = Counter(f for r in results for f in r.flags)
    prompt_tokens = sum(u.get("input_tokens", 0) for u in usage.usage_metadata.values())
    completion_tokens = sum(u.get("output_tokens", 0) for u in usage.usage_metadata.values())
    tokens_known = bool(usage.usage_metadata)

    summary = {
        "input": input_path.name,
        "rows": len(rows),
        "graded": len(scores),
        "errors": errors,
        "mean score": f"{statistics.fmean(scores):.2f}" if scores else "-",
        "median score": f"{statistics.median(scores):.2f}" if scores else "-",
        "graded by": "rubric + LLM" if use_llm else "rubric only (--no-llm)",
        "LLM tokens (prompt / completion)": (
            f"{prompt_tokens} / {completion_tokens}" if tokens_known else "-"
        ),
        **{f"note {i}": note for i, note in enumerate(notes, start=1)},
    }
    report_html = render_report(
        rows,
        results,
        summary,
        title=f"coach batch report: {input_path.name}",
        text_chars=settings.batch.report_text_chars,
    )
    with _keeping_journal(output_path, journal, len(results)):
        write_results(output_path, results)
    with _keeping_journal(report_path, journal, len(results)):
        write_text_atomic(report_path, report_html)
    try:
        journal.remove()
    except OSError as exc:
        notes.append(
            f"The output is complete, but the journal {journal.path} could not be deleted "
            f"({_reason(exc)}); delete it before grading into {output_path} again."
        )
    graded_now = len(pending)
    return BatchReport(
        input_path=input_path,
        output_path=output_path,
        report_path=report_path,
        journal_path=journal.path,
        rows=len(rows),
        graded=graded_now,
        skipped=skipped,
        errors=errors,
        flag_counts=dict(flags.most_common()),
        mean_score=statistics.fmean(scores) if scores else None,
        use_llm=use_llm,
        concurrency=concurrency,
        elapsed_seconds=time.perf_counter() - started,
        grading_seconds=grading_seconds,
        answers_per_second=graded_now / grading_seconds if grading_seconds > 0 else 0.0,
        llm_prompt_tokens=prompt_tokens if tokens_known else None,
        llm_completion_tokens=completion_tokens if tokens_known else None,
        notes=notes,
    )


def _row_finished(
    on_progress: OnProgress | None, journal: Journal, total: int
) -> Callable[[], None]:
    """What a worker calls once a row is journaled: the caller's ``on_progress`` with the
    rows the journal holds (a resumed run's earlier rows included) out of ``total``."""

    def finished() -> None:
        if on_progress is not None:
            on_progress(len(journal.done), total)

    return finished


async def _grade_in_chunks(
    pending: list[BatchRow],
    grader: AsyncGrader,
    journal: Journal,
    concurrency: int,
    bar: tqdm,
    settings: Settings,
    finished: Callable[[], None],
    breaker: LlmBreaker,
) -> None:
    """Rows in chunks of ``batch_prefetch_rows``; a grader that can (coach's) encodes
    each chunk's answers ahead in full batches, which is most of the no-LLM speed. One
    ``breaker`` spans the chunks: a server given up on stays given up on."""
    prefetch = getattr(grader, "prefetch", None)
    clear = getattr(grader, "clear_prefetched", None)
    size = settings.batch.prefetch_rows
    for start in range(0, len(pending), size):
        chunk = pending[start : start + size]
        if prefetch is not None:
            # only a speed-up: when it fails, each row encodes its own answer
            try:
                ready = [r for r in chunk if not r.error]
                await asyncio.to_thread(
                    prefetch,
                    [r.answer for r in ready],
                    [r.question for r in ready],
                    [r.reference for r in ready],
                )
            except Exception:
                logger.warning("Prefetching a chunk failed; its rows go one by one", exc_info=True)
        try:
            await _grade_all(chunk, grader, journal, concurrency, bar, finished, breaker)
        finally:
            if clear is not None:
                clear()


async def _grade_all(
    pending: list[BatchRow],
    grader: AsyncGrader,
    journal: Journal,
    concurrency: int,
    bar: tqdm,
    finished: Callable[[], None],
    breaker: LlmBreaker,
) -> None:
    """``concurrency`` workers share one queue, so at most that many rows are in flight
    (the bound a semaphore would give, without one task object per row of a huge file).
    A TaskGroup cancels every worker if one fails (e.g. the disk is full). Each row's
    wait for the model is the ``breaker``'s: the LLM timeout, or none once the server
    has failed too many rows in a row."""
    queue: asyncio.Queue[BatchRow] = asyncio.Queue()
    for row in pending:
        queue.put_nowait(row)
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while not queue.empty():
            row = queue.get_nowait()
            timeout = breaker.row_timeout(row)
            result = await grade_row(grader, row, llm_timeout=timeout)
            breaker.record(result, timeout=timeout)
            journal.append(result)
            errors += result.status == "error"
            bar.set_postfix(errors=errors, refresh=False)
            bar.update(1)
            finished()

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, len(pending))):
                group.create_task(worker())
    except BaseExceptionGroup as group_error:
        first = group_error.exceptions[0]
        if isinstance(first, OSError):
            raise BatchError(
                f"Cannot write the journal {journal.path}: {_reason(first)}. The "
                f"{len(journal.done)} rows finished so far are kept there; fix the problem "
                "(free disk space, make the folder writable) and run the same command again "
                "with --resume to grade only the rest."
            ) from first
        raise first from group_error


async def grade_row(
    grader: AsyncGrader, row: BatchRow, *, llm_timeout: float | None = None
) -> BatchResult:
    """Never raises for one bad row: its error goes into the output and the batch goes on.

    ``llm_timeout``: how long the model's verdict on this row may take (retries
    included) before the row keeps the rubric's evidence grade, flagged
    ``llm_unavailable``, as a single ``coach grade`` does: a server that accepts requests
    but answers a byte at a time must not stall the batch. 0: the model is not asked."""
    if row.error:
        return result_from_error(row, row.error)
    try:
        grade = await grader.agrade(
            row.question, row.answer, reference=row.reference, llm_timeout=llm_timeout
        )
    except Exception as exc:  # one row's failure must not stop the batch
        logger.warning("Grading row %s failed; the batch goes on", row.id, exc_info=True)
        return result_from_error(row, f"grading failed: {type(exc).__name__}: {exc}")
    return result_from_grade(row, grade)


class _NoGrader:
    """Every row left is an error row (refused by the reader): no model is loaded for
    them, and ``grade_row`` never calls this."""

    async def agrade(
        self,
        question: str,
        answer: str,
        *,
        reference: str | None = None,
        card_id: str | None = None,
        llm_timeout: float | None = None,
    ) -> Grade:
        raise AssertionError("an error row is never graded")


def _topic(row: BatchRow, grade: Grade | None = None) -> str:
    """The row's own topic column, else the graded card's topic, else the question's."""
    if row.topic:
        return row.topic
    ref = grade.references[0] if grade and grade.references else None
    if ref and ref.card_id:
        return tag(ref.title, ref.question)
    return tag(row.question) if row.question else ""


def result_from_grade(row: BatchRow, grade: Grade) -> BatchResult:
    ref = grade.references[0] if grade.references else None
    return BatchResult(
        id=row.id,
        question=row.question,
        topic=_topic(row, grade),
        score=grade.score,
        confidence=grade.confidence,
        evidence=grade.evidence,
        llm_score=grade.llm_score,
        depth=grade.depth,
        covered=grade.covered,
        partial=grade.partial,
        missed=grade.missed,
        feedback=grade.feedback,
        follow_up=grade.follow_up,
        reference_card_id=(ref.card_id or "") if ref else "",
        reference_title=ref.title if ref else "",
        reference_sources=list(ref.sources) if ref else [],
        signals=list(grade.signals),
        flags=list(grade.flags),
        status="ok",
        points=grade.points,
    )


def result_from_error(row: BatchRow, message: str) -> BatchResult:
    return BatchResult(
        id=row.id, question=row.question, topic=_topic(row), status="error", error=message
    )


def _check_index_usable(settings: Settings) -> None:
    """Rows without a reference are graded against the index, which Chroma opens for
    writing even to search: a read-only or full data folder would fail every such row
    one by one. Said once, before grading (exit 1 from the CLI)."""
    from coach.store.data_dir import DataDirError, check_data_dir

    try:
        check_data_dir(settings, "grade rows that have no reference (they use the index)")
    except DataDirError as exc:
        raise BatchError(f"{exc} Nothing was graded.") from exc


def _default_grader(settings: Settings, use_llm: bool, notes: list[str]) -> AsyncGrader:
    """The real grader; with the LLM on, check the server once so a down server is said
    once up front (the grader still falls back to the rubric row by row)."""
    from coach.grading.grader import Grader
    from coach.llm.client import ModelServerUnavailable, check_server

    if use_llm:
        try:
            check_server(settings)
        except ModelServerUnavailable as exc:
            notes.append(
                f"{exc} Rows are graded by the rubric alone while it is down "
                "(flag llm_unavailable)."
            )
    return Grader(settings, use_llm=use_llm)
