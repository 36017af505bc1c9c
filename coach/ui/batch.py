"""The batch tab's grading: an uploaded file graded with coach.batch, with progress as
rows finish (reported by the runner's ``on_progress`` callback).

The upload (a table, a table with its recordings, or one .zip of both) is received by
``coach.ui.files``: sizes checked before any copy, recordings read only from the upload's
own folder, every copy removed when the batch ends, and no server path in a message."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

from coach.ui.files import UploadError, discard_upload, public_message, receive_batch_upload
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
    services: AppServices, upload: str | list[str] | None, use_llm: bool, lang: Lang
) -> AsyncIterator[tuple[str, list[str] | None]]:
    """Yields (status text, result files or None) until the batch is done."""
    uploads = [Path(upload)] if isinstance(upload, str) else [Path(u) for u in upload or []]
    if not uploads:
        yield t(lang, "batch_no_file"), None
        return
    work = services.settings.paths.new_batch_work_dir()
    try:
        async for update in _grade_upload(services, uploads, work, use_llm, lang):
            yield update
    finally:
        await asyncio.to_thread(discard_upload, work, uploads)


async def _grade_upload(
    services: AppServices, uploads: list[Path], work: Path, use_llm: bool, lang: Lang
) -> AsyncIterator[tuple[str, list[str] | None]]:
    from coach.batch.models import BatchError
    from coach.batch.reader import count_rows
    from coach.batch.run import arun_batch

    settings = services.settings

    def failed(exc: Exception) -> tuple[str, None]:
        return t(lang, "batch_failed", error=esc(public_message(str(exc), work, uploads))), None

    try:
        source = await asyncio.to_thread(receive_batch_upload, uploads, work, settings)
        output = work / f"{source.stem}.graded.csv"
        total = await asyncio.to_thread(count_rows, source, settings)
        grader = await asyncio.to_thread(services.grader, use_llm)
    except (UploadError, BatchError, OSError) as exc:
        yield failed(exc)
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
            audio_dir=source.parent,
        )
    )
    started = time.perf_counter()
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=settings.ui.batch_poll_seconds)
            if not task.done():
                yield t(lang, "batch_progress", done=finished.done, total=total), None
    finally:
        if not task.done():  # the page went away: stop grading, then the copies go
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
    try:
        report = task.result()
    except (BatchError, OSError) as exc:
        yield failed(exc)
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
    notes = "".join(
        f"\n\n{t(lang, 'notice', text=esc(public_message(n, work, uploads)))}" for n in report.notes
    )
    yield status + notes, [str(report.output_path), str(report.report_path)]
