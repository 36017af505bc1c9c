"""`coach bench` / `coach bench all`: every speed benchmark, one compact table."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from coach.config import get_settings


def bench_all(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Corpus to ingest. Default: COACH_CORPUS_PATHS.")
    ] = None,
    answers: Annotated[
        Path | None,
        typer.Option(help="Batch file to grade. Default: <COACH_EVAL_DIR>/sample_answers.csv."),
    ] = None,
    llm_limit: Annotated[
        int | None, typer.Option(min=1, help="LLM grading benchmark: first N answers only.")
    ] = None,
    serve: Annotated[
        list[str] | None,
        typer.Option(help="Also benchmark serving this LLM pack (starts a server; repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ingest vs bare encode, search p50/p95, rubric answers/s, LLM batch vs direct load."""
    from coach.evaluation.bench_all import BenchOptions, render, run_benchmarks

    settings = get_settings()
    options = BenchOptions(
        paths=list(paths or settings.corpus_paths),
        queries_file=settings.eval_dir / "retrieval.jsonl",
        answers_file=answers or settings.eval_dir / "sample_answers.csv",
        llm_limit=llm_limit,
        serve_packs=serve or [],
    )
    say = (lambda m: typer.echo(m, err=True)) if as_json else typer.echo
    lines = run_benchmarks(settings, options, say)
    if as_json:
        sys.stdout.write(json.dumps([line.model_dump() for line in lines], indent=2) + "\n")
        return
    typer.echo(render(lines))


def bench_default(ctx: typer.Context) -> None:
    """Measure speed; prints figures, asserts nothing. Without a subcommand: all of them."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(bench_all)
