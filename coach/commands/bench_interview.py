"""``coach bench interview``: waiting times of a mock interview, printed as figures."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from coach.config import get_settings


def bench_interview(
    turns: Annotated[int, typer.Option(min=1, help="Answers to submit.")] = 4,
    topic: Annotated[str | None, typer.Option(help="Only this topic.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Time to first streamed token, to the whole question, and to a grade, per turn."""
    from coach.evaluation.bench_interview import bench_interview as run

    settings = get_settings()
    result = asyncio.run(run(settings, turns=turns, topic=topic))
    if as_json:
        typer.echo(json.dumps({**result.model_dump(), "summary": result.summary()}, indent=2))
        return
    typer.echo(f"model {result.model} at {result.base_url}")
    for q in result.questions:
        first = "-" if q.first_token_s is None else f"{q.first_token_s:.2f}s"
        typer.echo(
            f"turn {q.turn} {q.kind:<9} first token {first:>7}  complete {q.complete_s:.2f}s"
        )
    for g in result.grades:
        flags = f"  flags {','.join(g.flags)}" if g.flags else ""
        first = "" if g.first_grade_s is None else f"rubric grade {g.first_grade_s:.2f}s  "
        typer.echo(f"turn {g.turn} {first}final grade {g.grade_s:.2f}s  score {g.score:.1f}{flags}")
    typer.echo(json.dumps(result.summary()))
