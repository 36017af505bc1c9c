"""`coach plan --jd FILE [--resume FILE]`: the interview a job description asks for
(issue 31).

The areas the JD names (the alias table, coach/jobs/areas.toml, and the model's reading
of the JD), the bank's cards for each, questions the model writes for areas the bank does
not cover (offered to the bank for review), deep dives into the résumé's projects, and
the session's questions spread over the areas, core first. With ``--no-llm`` (or the
model down) the table and the bank only. The JD and the résumé stay on this machine.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from coach.cli.output import fail, print_json
from coach.config import get_settings

if TYPE_CHECKING:
    from coach.jobs.plan import JobPlan

app = typer.Typer()


@app.command("plan")
def plan(
    jd: Annotated[Path, typer.Option(help="The job description: a text or Markdown file.")],
    resume: Annotated[
        Path | None,
        typer.Option(help="Your résumé: .txt, .md, .pdf or .docx (deep-dive questions)."),
    ] = None,
    questions: Annotated[
        int | None, typer.Option(min=1, help="Questions in the session (default: the UI's).")
    ] = None,
    llm: Annotated[
        bool, typer.Option("--llm/--no-llm", help="Let the model read areas and write questions.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Plan an interview for a job: areas (core / optional), matched cards, questions."""
    from coach.corpus.catalog import load_corpus
    from coach.index.retriever import HybridSearcher
    from coach.index.store import StoreError
    from coach.jobs.offer import offer
    from coach.jobs.plan import PlanError, jd_lines
    from coach.jobs.planner import JobPlanner, PlanRequest
    from coach.jobs.resume import ResumeError, read_resume
    from coach.store.history import HistoryStore

    settings = get_settings()
    try:
        text = jd.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"Cannot read {jd} as UTF-8 text ({exc}); save the posting as a .txt or .md file.")
    try:
        jd_lines(text, settings)  # a JD that cannot be planned is refused before loading
        resume_text = read_resume(resume, settings) if resume else ""
    except (PlanError, ResumeError) as exc:
        fail(str(exc))
    try:
        cards = load_corpus(settings.paths.corpus_file).cards
        searcher = HybridSearcher(settings)
    except (FileNotFoundError, StoreError) as exc:
        fail(str(exc))
    store = HistoryStore.open(settings)
    planner = JobPlanner(settings, searcher, cards, use_model=llm and settings.plan.llm)
    request = PlanRequest(
        jd=text, resume=resume_text, questions=questions or settings.interview.questions
    )
    try:
        result = asyncio.run(planner.plan(request, reviews=store.reviews(), now=store.clock()))
    except (PlanError, ResumeError) as exc:
        fail(str(exc))
    offered = offer(settings.paths.generated_cards_file, result.written())
    if as_json:
        print_json({**result.model_dump(mode="json"), "uncovered": result.uncovered})
        return
    _print(result, offered)


def _print(result: JobPlan, offered: int) -> None:
    typer.echo(f"Job: {result.title}")
    for area in result.areas:
        kind = "core" if area.core else "optional"
        terms = ", ".join(area.terms)
        found = "+".join(area.found_by)
        typer.echo(f"\n{area.name} [{kind}; found by {found}; {area.mentions} mentions: {terms}]")
        if not area.in_bank:
            typer.echo("  the bank has no card that names it")
        for match in area.cards:
            typer.echo(f"  {match.score:.3f}  {match.question}  ({match.source})")
        for recent in area.recent:
            due = recent.due_at.strftime("%Y-%m-%d")
            typer.echo(f"  asked recently, due {due}: {recent.question}")
        for q in area.written:
            points = "; ".join(p.label for p in q.points)
            typer.echo(f"  generated ({q.model}): {q.question}  [points: {points}]")
    if result.projects:
        typer.echo("\nRésumé projects:")
        for project in result.projects:
            typer.echo(f"  {project.title}: {', '.join(project.areas) or 'no area of the JD'}")
    typer.echo(f"\nQuestions ({len(result.questions)}):")
    if not result.questions:
        typer.echo(
            "  none: the bank covers none of these areas. Add a question bank for them "
            "(`coach ingest FILE`) and plan again."
        )
    for i, item in enumerate(result.questions, 1):
        mark = "" if item.origin == "bank" else f" ({item.origin})"
        typer.echo(f"  {i}. [{item.area}]{mark} {item.question}")
    if result.ignored_lines or result.resume_ignored:
        typer.echo(
            "\nIgnored as instructions to a model: "
            f"{[*result.ignored_lines, *result.resume_ignored]}"
        )
    for note in result.notes:
        typer.echo(f"\nNote: {note}")
    if offered:
        typer.echo(
            f"\n{offered} generated questions offered to the bank for review "
            "(question-bank tab, or `coach accept-cards ID`)."
        )
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    typer.echo(f"\nPlanned in {result.seconds.get('total', 0):.1f} s ({steps}).")
