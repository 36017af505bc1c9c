"""`coach bench grade`: batch grading throughput (rubric answers/s; LLM tokens/s against
a bare load on the same server). Prints figures, asserts nothing."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from coach.config import get_settings

DEFAULT_INPUT = Path("eval") / "sample_answers.csv"


def bench_grade(
    input_path: Annotated[
        Path, typer.Option("--input", help="Batch file of answers (CSV/JSONL/XLSX).")
    ] = DEFAULT_INPUT,
    repeat: Annotated[
        int, typer.Option(min=1, help="Rubric part: grade each answer this many times.")
    ] = 5,
    limit: Annotated[
        int | None, typer.Option(min=1, help="LLM part: grade only the first N answers.")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Default: COACH_BATCH_CONCURRENCY.")
    ] = None,
    rubric: Annotated[bool, typer.Option("--rubric/--no-rubric", help="Run part (a).")] = True,
    llm: Annotated[
        bool, typer.Option("--llm/--no-llm", help="Run part (b); skipped if no server answers.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Batch grading speed: rubric answers/s, and LLM tokens/s vs a direct load."""
    from coach.batch.models import BatchError
    from coach.evaluation.bench_grade import bench_grade as run_bench
    from coach.evaluation.report import fmt

    try:
        result = asyncio.run(
            run_bench(
                get_settings(),
                input_path,
                repeat=repeat,
                limit=limit,
                concurrency=concurrency,
                rubric=rubric,
                llm=llm,
            )
        )
    except BatchError as exc:
        typer.secho(f"Error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    if as_json:
        sys.stdout.write(json.dumps(result.model_dump(), ensure_ascii=False, indent=2) + "\n")
        return
    if r := result.rubric:
        typer.echo(
            f"rubric only: {r.answers} answers, concurrency {r.concurrency}: batch "
            f"{r.batch_answers_per_second:.1f} answers/s ({r.batch_seconds:.2f} s; "
            f"{r.end_to_end_seconds:.2f} s with output and report), bare loop "
            f"{r.loop_answers_per_second:.1f} answers/s; ratio {r.ratio:.2f}"
        )
    if m := result.llm:
        if m.skipped:
            typer.echo(m.skipped)
            return
        typer.echo(
            f"LLM: {m.model} at {m.base_url}, {m.answers} answers, concurrency {m.concurrency}"
        )
        for load in (m.batch, m.direct, m.sequential):
            if load:
                typer.echo(
                    f"  {load.mode:<11}{load.requests:>4} requests {load.seconds:8.1f} s  "
                    f"prompt {load.prompt_tokens:>6}  completion {load.completion_tokens:>6}  "
                    f"{load.tokens_per_second:6.1f} tokens/s "
                    f"({load.completion_tokens_per_second:.1f} completion)"
                    + (f"  ({load.failed} failed)" if load.failed else "")
                    + f"  {load.answers_per_hour:.0f} requests/h"
                    + (
                        f", median request {load.median_request_seconds:.1f} s"
                        if load.median_request_seconds is not None
                        else ""
                    )
                )
        if m.ratio_batch_to_direct is not None:
            completion_only = fmt(m.ratio_completion_batch_to_direct, 2)
            typer.echo(
                f"  batch / direct: {m.ratio_batch_to_direct:.2f} (target >= 0.9; prompt + "
                f"completion tokens/s; completion alone {completion_only})"
            )
        if m.speedup_direct_over_sequential is not None:
            typer.echo(f"  direct / one-at-a-time: {m.speedup_direct_over_sequential:.2f}x")
        for note in m.notes:
            typer.echo(f"  note: {note}")
