"""The batch tab's grading: an uploaded file graded with coach.batch, with progress as
rows finish (reported by the runner's ``on_progress`` callback)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

from coach.ui.files import copy_upload
from coach.ui.render import esc
from coach.ui.services import AppServices
from coach.ui.strings import Lang, t


class _Finished:
    """The runner's ``on_progress`` callback: remembers the rows done so far, which the
    status line reads at each poll (the callback runs on the same event loop)."""

    def __init__(self) -> None:
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        self.done = done


async def grade_file(
    services: AppServices, upload: str | None, use_llm: bool, lang: Lang
) -> AsyncIterator[tuple[str, list[str] | None]]:
    """Yields (status text, result files or None) until the batch is done."""
    from coach.batch.models import BatchError
    from coach.batch.reader import read_batch
    from coach.batch.run import arun_batch

    settings = services.settings
    if not upload:
        yield t(lang, "batch_no_file"), None
        return
    source = copy_upload(Path(upload), settings.paths.new_batch_work_dir())
    output = source.with_name(f"{source.stem}.graded.csv")
    try:
        total = len(await asyncio.to_thread(read_batch, source, settings))
        grader = await asyncio.to_thread(services.grader, use_llm)
    except (BatchError, OSError) as exc:
        yield t(lang, "batch_failed", error=esc(str(exc))), None
        return
    yield t(lang, "batch_progress", done=0, total=total), None
    finished = _Finished()
    # arun_batch is the event-loop form of coach.batch.run.run_batch (same code path).
    task = asyncio.create_task(
        arun_batch(
            source,
            output,
            settings=settings,
            use_llm=use_llm,
            grader=grader,
            progress=False,
            on_progress=finished,
        )
    )
    started = time.perf_counter()
    while not task.done():
        await asyncio.wait({task}, timeout=settings.ui.batch_poll_seconds)
        if not task.done():
            yield t(lang, "batch_progress", done=finished.done, total=total), None
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
