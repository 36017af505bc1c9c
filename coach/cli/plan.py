"""`coach plan --jd FILE`: the interview a job description asks for (issue 31).

Without the LLM: the areas the JD names (coach/jobs/areas.toml), the bank's cards for
each, the areas the bank does not cover, and the session's questions spread over the
areas, core first. The JD stays on this machine.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from coach.cli.output import fail, print_json
from coach.config import get_settings

app = typer.Typer()


@app.command("plan")
def plan(
    jd: Annotated[Path, typer.Option(help="The job description: a text or Markdown file.")],
    questions: Annotated[
        int | None, typer.Option(min=1, help="Questions in the session (default: the UI's).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Plan an interview for a job: areas (core / optional), matched cards, questions."""
    from coach.corpus.catalog import load_corpus
    from coach.index.retriever import HybridSearcher
    from coach.index.store import StoreError
    from coach.jobs.plan import PlanError, build_plan, jd_lines

    settings = get_settings()
    try:
        text = jd.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"Cannot read {jd} as UTF-8 text ({exc}); save the posting as a .txt or .md file.")
    try:
        jd_lines(text, settings)  # a JD that cannot be planned is refused before loading
    except PlanError as exc:
        fail(str(exc))
    started = time.monotonic()
    try:
        cards = load_corpus(settings.paths.corpus_file).cards
        searcher = HybridSearcher(settings)
    except (FileNotFoundError, StoreError) as exc:
        fail(str(exc))
    count = questions or settings.interview.questions
    try:
        result = build_plan(text, searcher, cards, settings, count)
    except PlanError as exc:
        fail(str(exc))
    seconds = time.monotonic() - started
    if as_json:
        print_json({**result.model_dump(mode="json"), "uncovered": result.uncovered})
        return
    for area in result.areas:
        kind = "core" if area.core else "optional"
        terms = ", ".join(area.terms)
        typer.echo(f"\n{area.name} [{kind}; {area.mentions} mentions: {terms}]")
        if not area.covered:
            typer.echo("  the bank has no card that names it")
        for match in area.cards:
            typer.echo(f"  {match.score:.3f}  {match.question}  ({match.source})")
    typer.echo(f"\nQuestions ({len(result.questions)}):")
    if not result.questions:
        typer.echo(
            "  none: the bank covers none of these areas. Add a question bank for them "
            "(`coach ingest FILE`) and plan again."
        )
    for i, item in enumerate(result.questions, 1):
        typer.echo(f"  {i}. [{item.area}] {item.question}")
    if result.ignored_lines:
        typer.echo(f"\nIgnored as instructions to a model: {result.ignored_lines}")
    typer.echo(f"\nPlanned in {seconds:.1f} s (without the LLM).")
