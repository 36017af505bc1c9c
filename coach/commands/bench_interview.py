"""``coach bench interview``: waiting times of a mock interview, printed as figures."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from coach.config import get_settings


def bench_interview(
    turns: Annotated[int, typer.Option(min=1, help="Answers each candidate submits.")] = 4,
    topic: Annotated[str | None, typer.Option(help="Only this topic.")] = None,
    users: Annotated[
        list[int] | None,
        typer.Option(
            "--users",
            min=1,
            help="Candidates interviewing at the same time; repeat to compare "
            "(--users 1 --users 2 --users 4). Default: 1.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Time to the question and the follow-up on screen, and to the provisional and final
    grade, per turn; with several candidates at once, for each."""
    from coach.evaluation.bench_interview import bench_interview as run

    settings = get_settings()
    results = []
    for n in users or [1]:
        result = asyncio.run(run(settings, turns=turns, topic=topic, users=n))
        results.append(result)
        if as_json:
            continue
        typer.echo(f"model {result.model} at {result.base_url}, {n} candidate(s) at once")
        for q in result.questions:
            again = f"  the model's phrasing at {q.complete_s:.2f}s" if q.revised else ""
            typer.echo(
                f"user {q.user} turn {q.turn} {q.kind:<9} on screen {q.visible_s:.2f}s{again}"
            )
        for g in result.grades:
            flags = f"  flags {','.join(g.flags)}" if g.flags else ""
            first = "" if g.first_grade_s is None else f"rubric grade {g.first_grade_s:.2f}s  "
            typer.echo(
                f"user {g.user} turn {g.turn} {first}final grade {g.grade_s:.2f}s  "
                f"score {g.score:.1f}{flags}"
            )
        typer.echo(json.dumps(result.summary()))
    if as_json:
        payload = [{**r.model_dump(), "summary": r.summary()} for r in results]
        typer.echo(json.dumps(payload, indent=2))
