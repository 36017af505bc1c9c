"""`coach eval grading`: grades eval/grading.jsonl and prints agreement with the bands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from coach.config import get_settings


def eval_grading(
    cases: Annotated[
        Path | None, typer.Option(help="JSONL of graded answers. Default: eval/grading.jsonl.")
    ] = None,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Rubric only.")] = False,
    show_cases: Annotated[
        bool, typer.Option("--show-cases", help="Print every answer's score.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Spearman, Pearson, MAE and share-in-band of grades vs expected bands, per kind."""
    from coach.evaluation.grading import HEADERS, evaluate, load_cases, table_rows
    from coach.evaluation.report import text_table
    from coach.grading.reference import ReferenceError
    from coach.index.store import StoreError

    settings = get_settings()
    path = cases or settings.eval_dir / "grading.jsonl"
    if not path.is_file():
        typer.secho(f"Error: {path} not found (run from the project folder).", fg="red", err=True)
        raise typer.Exit(1)
    loaded = load_cases(path)
    if not no_llm:
        from coach.llm.client import ModelServerUnavailable, check_server

        try:
            check_server(settings)
        except ModelServerUnavailable as exc:
            # Grading would silently fall back to the rubric: figures labelled "with the
            # LLM" would be the rubric's.
            typer.secho(f"Error: {exc}", fg="red", err=True)
            raise typer.Exit(1) from exc
    try:
        result = evaluate(settings, loaded, use_llm=not no_llm)
    except (StoreError, ReferenceError) as exc:
        typer.secho(f"Error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    if as_json:
        sys.stdout.write(json.dumps(result.model_dump(), ensure_ascii=False, indent=2) + "\n")
        return
    typer.echo(
        f"{len(loaded)} answers from {path}; graded by "
        + ("rubric + LLM" if not no_llm else "rubric only (--no-llm)")
    )
    typer.echo(text_table(HEADERS, table_rows(result)))
    if not no_llm:
        fallbacks = sum(
            1 for c in result.cases if {"llm_unavailable", "llm_invalid_output"} & set(c.flags)
        )
        typer.echo(f"LLM verdict missing (rubric alone) for {fallbacks} of {len(result.cases)}.")
    if show_cases:
        for c in result.cases:
            mark = " " if c.in_band else "!"
            typer.echo(
                f"{mark} {c.id} {c.kind:<18} {c.score:5.2f} band {list(c.band)} {','.join(c.flags)}"
            )
