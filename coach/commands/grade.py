"""`coach grade`: one answer (--question/--answer) or a whole file (--input/--output).

Thin on purpose: single answers go to coach.grading.grader.Grader, files to
coach.batch.run.run_batch (owned by batch grading), both imported only when used.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from coach.config import get_settings


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def grade(
    question: Annotated[
        str | None, typer.Option("--question", "-q", help="The question asked.")
    ] = None,
    answer: Annotated[
        str | None, typer.Option("--answer", "-a", help="The answer to grade ('-' reads stdin).")
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(help="A reference answer to grade against (no card is retrieved)."),
    ] = None,
    card: Annotated[
        str | None, typer.Option(help="Grade against this card id (`coach cards`).")
    ] = None,
    input_path: Annotated[
        Path | None,
        typer.Option("--input", help="Batch file (CSV/JSONL/XLSX) with question, answer."),
    ] = None,
    output_path: Annotated[
        Path | None, typer.Option("--output", help="Where batch results go (CSV/JSONL/XLSX).")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Batch: answers graded at once.")
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="Batch: keep the rows an interrupted run finished.")
    ] = False,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Rubric only; no model server.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Grade as JSON.")] = False,
) -> None:
    """Grade an answer (score 0-10, key points, feedback, follow-up), or a file of them."""
    if input_path is not None or output_path is not None:
        if question is not None or answer is not None:
            _fail("Give either --question/--answer or --input/--output, not both.")
        if input_path is None or output_path is None:
            _fail("Batch grading needs both --input FILE and --output FILE.")
        _grade_file(input_path, output_path, not no_llm, concurrency, resume)
        return
    if question is None or answer is None:
        _fail("Give --question and --answer (or --input FILE --output FILE for a batch).")
    if answer == "-":
        answer = sys.stdin.read()
    _grade_one(question, answer, reference, card, not no_llm, as_json)


def _grade_one(
    question: str,
    answer: str,
    reference: str | None,
    card: str | None,
    use_llm: bool,
    as_json: bool,
) -> None:
    from coach.grading.grader import Grader
    from coach.grading.reference import ReferenceError
    from coach.index.store import StoreError

    try:
        result = Grader(get_settings(), use_llm=use_llm).grade(
            question, answer, reference=reference, card_id=card
        )
    except (ReferenceError, StoreError) as exc:
        _fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(result.model_dump(), ensure_ascii=False, indent=2) + "\n")
        return
    ref = result.references[0] if result.references else None
    typer.echo(
        f"Score: {result.score:.1f}/10  ("
        + ", ".join(f"{k} {v:.1f}" for k, v in result.sub_scores.model_dump().items())
        + ")"
    )
    if ref:
        where = f" [{', '.join(ref.sources[:2])}]" if ref.sources else ""
        typer.echo(f"Reference: {ref.title}{where}")
    marks = {"covered": "✓", "partial": "~", "missed": "✗"}
    for p in result.points:
        wrong = " (contradicted)" if p.contradicted else ""
        evidence = f"  ← {p.evidence}" if p.evidence else ""
        typer.echo(f"  {marks[p.status]} {p.label}{wrong}{evidence}")
    typer.echo(f"Feedback: {result.feedback}")
    typer.echo(f"Follow-up: {result.follow_up}")
    typer.echo(f"Graded by: {' + '.join(result.signals)}")
    if result.flags:
        typer.echo(f"Flags: {', '.join(result.flags)}")
    for note in result.notes:
        typer.secho(f"Note: {note}", fg=typer.colors.YELLOW, err=True)


def _grade_file(
    input_path: Path, output_path: Path, use_llm: bool, concurrency: int | None, resume: bool
) -> None:
    try:
        from coach.batch.models import BatchError
        from coach.batch.run import run_batch
    except ImportError as exc:
        _fail(f"Batch grading is not available in this build ({exc}).")
    try:
        report = run_batch(
            input_path,
            output_path,
            settings=get_settings(),
            use_llm=use_llm,
            concurrency=concurrency,
            resume=resume,
        )
    except BatchError as exc:
        _fail(str(exc))
    typer.echo(
        f"{report.rows} rows: {report.graded} graded now, {report.skipped} from the journal, "
        f"{report.errors} errors; mean score "
        + (f"{report.mean_score:.2f}" if report.mean_score is not None else "-")
        + f" -> {report.output_path} (report {report.report_path})"
    )
    for note in report.notes:
        typer.secho(f"Note: {note}", fg=typer.colors.YELLOW, err=True)
