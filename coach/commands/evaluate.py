"""`coach eval retrieval|mohler|le|all` and `coach eval convert-mohler`: run the sets in
eval/, print the headline figures, and write a Markdown + PNG report under reports/."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from coach.config import get_settings

if TYPE_CHECKING:  # the evaluation stack (matplotlib, scipy) loads only when a command runs
    from coach.evaluation.suite import EvalOptions, Part

LimitOption = Annotated[
    int | None,
    typer.Option(
        "--limit",
        min=1,
        help=(
            "Grade only N answers per set (the LLM is slow on CPU): a seeded random sample "
            "of Mohler, the first N of the grading set (whole cards, every kind)."
        ),
    ),
]
LlmOption = Annotated[
    bool,
    typer.Option("--llm/--no-llm", help="Also grade with the LLM when a server answers."),
]


JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the results as JSON (the report is written too).")
]


def _run(parts: list[Part], options: EvalOptions, as_json: bool) -> None:
    from pydantic_core import to_jsonable_python

    from coach.evaluation.suite import run_eval

    outcome = run_eval(get_settings(), parts, options)
    if as_json:
        data = {
            "report": str(outcome.report_path),
            **{k: to_jsonable_python(v) for k, v in outcome.data.items()},
        }
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    for line in outcome.headlines:
        typer.echo(line)


def eval_retrieval(
    cases: Annotated[
        Path | None, typer.Option(help="JSONL of {query, expect}. Default: eval/retrieval.jsonl.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recall@1, recall@5 and MRR for dense, BM25 and hybrid retrieval (+ report)."""
    from coach.evaluation.suite import EvalOptions

    _run(["retrieval"], EvalOptions(use_llm=False, retrieval_cases=cases), as_json)


def eval_mohler(
    limit: LimitOption = None, llm: LlmOption = True, as_json: JsonOption = False
) -> None:
    """Agreement with human graders on Mohler 2011: Pearson, RMSE vs published figures."""
    from coach.evaluation.suite import EvalOptions

    _run(["mohler"], EvalOptions(use_llm=llm, limit=limit), as_json)


def eval_le(limit: LimitOption = None, llm: LlmOption = True, as_json: JsonOption = False) -> None:
    """Agreement with human graders on LE (585 Chinese answers), all and per split."""
    from coach.evaluation.suite import EvalOptions

    _run(["le"], EvalOptions(use_llm=llm, limit=limit), as_json)


def eval_all(limit: LimitOption = None, llm: LlmOption = True, as_json: JsonOption = False) -> None:
    """Every set in eval/ (retrieval, grading, Mohler, LE) into one report."""
    from coach.evaluation.suite import PARTS, EvalOptions

    _run(list(PARTS), EvalOptions(use_llm=llm, limit=limit), as_json)


def convert_mohler(
    source: Annotated[
        Path | None,
        typer.Option(help="Folder with mohler2011_unt_cs.jsonl. Default: COACH_MOHLER_SOURCE_DIR."),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Default: <COACH_EVAL_DIR>/mohler.")] = None,
) -> None:
    """Convert the Mohler 2011 set to a batch file with human scores on 0-10."""
    from coach.evaluation.mohler import convert

    settings = get_settings()
    try:
        result = convert(
            source or settings.mohler_source_dir, output or settings.eval_dir / "mohler"
        )
    except (FileNotFoundError, ValueError) as exc:
        typer.secho(f"Error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"{result.rows} answers to {result.questions} questions -> {result.output} "
        f"(human scores {result.min_score:g}-{result.max_score:g}); copied "
        + ", ".join(p.name for p in result.copied)
    )
