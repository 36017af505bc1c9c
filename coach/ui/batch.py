"""The batch tab: grade an uploaded file with coach.batch, showing progress as rows
finish (read from the batch journal, which gains one line per graded row)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

from coach.ui.render import esc
from coach.ui.services import AppServices
from coach.ui.strings import Lang, t


def _finished_rows(journal: Path) -> int:
    """Lines after the header; 0 before the journal exists or after it is removed."""
    try:
        with journal.open("rb") as handle:
            return max(sum(1 for _ in handle) - 1, 0)
    except FileNotFoundError:
        return 0


async def grade_file(
    services: AppServices, upload: str | None, use_llm: bool, lang: Lang
) -> AsyncIterator[tuple[str, list[str] | None]]:
    """Yields (status text, result files or None) until the batch is done."""
    from coach.batch.models import BatchError
    from coach.batch.reader import read_batch
    from coach.batch.run import arun_batch, journal_path_for
    from coach.ui.app import copy_upload, new_work_dir

    settings = services.settings
    if not upload:
        yield t(lang, "batch_no_file"), None
        return
    source = copy_upload(Path(upload), new_work_dir(settings))
    output = source.with_name(f"{source.stem}.graded.csv")
    try:
        total = len(await asyncio.to_thread(read_batch, source, settings))
        grader = await asyncio.to_thread(services.grader, use_llm)
    except (BatchError, OSError) as exc:
        yield t(lang, "batch_failed", error=esc(str(exc))), None
        return
    yield t(lang, "batch_progress", done=0, total=total), None
    # arun_batch is the event-loop form of coach.batch.run.run_batch (same code path).
    task = asyncio.create_task(
        arun_batch(
            source, output, settings=settings, use_llm=use_llm, grader=grader, progress=False
        )
    )
    journal = journal_path_for(output, settings)
    started = time.perf_counter()
    while not task.done():
        await asyncio.wait({task}, timeout=settings.ui_batch_poll_seconds)
        if not task.done():
            yield t(lang, "batch_progress", done=_finished_rows(journal), total=total), None
    try:
        report = task.result()
    except BatchError as exc:
        yield t(lang, "batch_failed", error=esc(str(exc))), None
        return
    mean = "-" if report.mean_score is None else f"{report.mean_score:.2f}"
    status = t(
        lang,
        "batch_done",
        rows=report.rows,
        errors=report.errors,
        mean=mean,
        seconds=f"{time.perf_counter() - started:.1f}",
    )
    notes = "".join(f"\n\n{t(lang, 'notice', text=esc(n))}" for n in report.notes)
    yield status + notes, [str(report.output_path), str(report.report_path)]
