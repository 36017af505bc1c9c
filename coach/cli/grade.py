"""`coach grade`: one answer (--question/--answer) or a whole file (--input/--output).

A top-level command (this Typer is added to the root without a name). Thin on purpose:
single answers go to coach.grading.grader.Grader, files to coach.batch.run.run_batch
(owned by batch grading), both imported only when used.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from coach.cli.checks import require_writable_data_dir
from coach.cli.output import fail, print_json, print_notes
from coach.config import Settings, get_settings
from coach.grading.flags import GradeFlag

app = typer.Typer()


@app.command("grade")
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
        typer.Option("--input", help="Batch file (CSV/TSV/JSONL/XLSX) with question, answer."),
    ] = None,
    output_path: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="Where batch results go; the extension picks CSV, JSONL or XLSX. An HTML "
            "report is written beside it (<name>.report.html).",
        ),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Batch: answers graded at once.")
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="Batch: keep the rows an interrupted run finished.")
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite", help="Batch: replace an existing output file and its HTML report."
        ),
    ] = False,
    sheet: Annotated[
        str | None,
        typer.Option(help="Batch, .xlsx: the worksheet to grade (default: the active one)."),
    ] = None,
    audio_dir: Annotated[
        Path | None,
        typer.Option(
            "--audio-dir",
            help="Batch: the folder recordings in the audio column are read from (default: "
            "the input's folder); a name leading out of it is that row's error.",
        ),
    ] = None,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Rubric only; no model server.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Grade as JSON.")] = False,
) -> None:
    """Grade an answer (score 0-10, key points, feedback, follow-up), or a file of them."""
    if input_path is not None or output_path is not None:
        if question is not None or answer is not None:
            fail("Give either --question/--answer or --input/--output, not both.")
        if input_path is None or output_path is None:
            fail("Batch grading needs both --input FILE and --output FILE.")
        _grade_file(
            input_path, output_path, not no_llm, concurrency, resume, overwrite, sheet, audio_dir
        )
        return
    if sheet is not None or audio_dir is not None:
        fail("--sheet and --audio-dir are for batch grading (--input/--output).")
    if question is None or answer is None:
        fail("Give --question and --answer (or --input FILE --output FILE for a batch).")
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

    settings = get_settings()
    if reference is None:
        require_writable_data_dir(settings, "grade against the index")
    server_down = _server_down(settings) if use_llm else None
    try:
        # Every wait is bounded: the health check by llm_health_timeout, the LLM's
        # verdict by llm_timeout; past either the rubric's grade is printed.
        result = Grader(settings, use_llm=use_llm and server_down is None).grade(
            question, answer, reference=reference, card_id=card, llm_timeout=settings.llm.timeout
        )
    except (ReferenceError, StoreError) as exc:
        fail(str(exc))
    if server_down is not None:
        result.flags.append(GradeFlag.LLM_UNAVAILABLE)
        result.notes.append(f"{server_down} Graded by the rubric alone.")
    if as_json:
        print_json(result.model_dump())
        print_notes(result.notes)  # stderr: the JSON on stdout stays parseable
        return
    ref = result.references[0] if result.references else None
    typer.echo(
        f"Score: {result.score:.1f}/10  ("
        + ", ".join(f"{k} {v:.1f}" for k, v in result.breakdown().items() if v is not None)
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
    print_notes(result.notes)


def _server_down(settings: Settings) -> str | None:
    """Why the model server cannot grade, asked up front (as `coach chat` and batches do):
    a server that accepts connections but never answers would otherwise hold the grade
    for the LLM's full timeout and retries, minutes with nothing printed."""
    from coach.llm.client import ModelServerUnavailable, check_server

    try:
        check_server(settings)
    except ModelServerUnavailable as exc:
        return str(exc)
    return None


def _grade_file(
    input_path: Path,
    output_path: Path,
    use_llm: bool,
    concurrency: int | None,
    resume: bool,
    overwrite: bool,
    sheet: str | None = None,
    audio_dir: Path | None = None,
) -> None:
    try:
        from coach.batch.models import BatchError
        from coach.batch.run import run_batch
    except ImportError as exc:
        fail(f"Batch grading is not available in this build ({exc}).")
    try:
        report = run_batch(
            input_path,
            output_path,
            settings=get_settings(),
            use_llm=use_llm,
            concurrency=concurrency,
            resume=resume,
            overwrite=overwrite,
            sheet=sheet,
            audio_dir=audio_dir,
        )
    except BatchError as exc:
        fail(str(exc))
    except OSError as exc:  # a fault the batch code did not foresee: still no traceback
        fail(
            f"{exc.filename or 'a file'}: {exc.strerror or exc}. Rows finished before it are "
            "kept in the journal beside --output; fix the problem and rerun with --resume."
        )
    typer.echo(
        f"{report.rows} rows: {report.graded} graded now, {report.skipped} from the journal, "
        f"{report.errors} errors; mean score "
        + (f"{report.mean_score:.2f}" if report.mean_score is not None else "-")
        + f" -> {report.output_path} (report {report.report_path})"
    )
    print_notes(report.notes)
