"""The ``coach eval`` group: ``retrieval|mohler|le|all`` run the sets in eval/, print the
headline figures and write a Markdown + PNG report under reports/; ``grading`` prints
agreement with the expected bands of eval/grading.jsonl; ``convert-mohler`` prepares the
Mohler set."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from coach.cli.output import fail, print_json
from coach.config import get_settings

if TYPE_CHECKING:  # the evaluation stack (matplotlib, scipy) loads only when a command runs
    from coach.evaluation.suite import EvalOptions, Part

app = typer.Typer(help="Measure quality on the sets in eval/.", no_args_is_help=True)

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
        print_json(data)
        return
    for line in outcome.headlines:
        typer.echo(line)


@app.command("retrieval")
def eval_retrieval(
    cases: Annotated[
        Path | None, typer.Option(help="JSONL of {query, expect}. Default: eval/retrieval.jsonl.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recall@1, recall@5 and MRR for dense, BM25 and hybrid retrieval (+ report)."""
    from coach.evaluation.suite import EvalOptions

    _run(["retrieval"], EvalOptions(use_llm=False, retrieval_cases=cases), as_json)


@app.command("mohler")
def eval_mohler(
    limit: LimitOption = None, llm: LlmOption = True, as_json: JsonOption = False
) -> None:
    """Agreement with human graders on Mohler 2011: Pearson, RMSE vs published figures."""
    from coach.evaluation.suite import EvalOptions

    _run(["mohler"], EvalOptions(use_llm=llm, limit=limit), as_json)


@app.command("le")
def eval_le(limit: LimitOption = None, llm: LlmOption = True, as_json: JsonOption = False) -> None:
    """Agreement with human graders on LE (585 Chinese answers), all and per split."""
    from coach.evaluation.suite import EvalOptions

    _run(["le"], EvalOptions(use_llm=llm, limit=limit), as_json)


@app.command("interview")
def eval_interview(
    limit: LimitOption = None, llm: LlmOption = True, as_json: JsonOption = False
) -> None:
    """Agreement with an interviewer on eval/interview.jsonl: Pearson, RMSE and bias per
    split, mean score per kind, guards that fired where they should not."""
    from coach.evaluation.suite import EvalOptions

    _run(["interview"], EvalOptions(use_llm=llm, limit=limit), as_json)


@app.command("hostile")
def eval_hostile(llm: LlmOption = True, as_json: JsonOption = False) -> None:
    """Hostile answers (noise, hidden instructions, negations, non-answers) replayed
    against their honest base answer: none may score above it."""
    from coach.evaluation.suite import EvalOptions

    _run(["hostile"], EvalOptions(use_llm=llm), as_json)


@app.command("fit-weight")
def eval_fit_weight(
    write: Annotated[
        bool, typer.Option("--write/--dry-run", help="Store the weight in coach.toml.")
    ] = True,
    limit: LimitOption = None,
    as_json: JsonOption = False,
) -> None:
    """Measure the served model on the train splits (interview set, LE) and store the
    weights its score earns in the grade, for short and for long answers (coach.toml).

    Written under [grading]: weight_scorer (long answers), weight_scorer_short and
    short_answer_chars."""
    import os

    from coach.evaluation.weight import measure, store
    from coach.llm.client import ModelServerUnavailable, check_server

    settings = get_settings()
    try:
        check_server(settings)
    except ModelServerUnavailable as exc:
        fail(str(exc))
    result = measure(settings, limit=limit)
    path = Path(os.environ.get("COACH_CONFIG", "coach.toml"))
    if write:
        store(result.best, path)
    if as_json:
        print_json(result.model_dump())
        return
    shown = result.trials[: settings.evaluation.fit_weight_shown]
    if result.single not in shown:
        shown.append(result.single)
    for trial in shown:
        figures = ", ".join(
            f"{k} {v:.3f}" if v is not None else f"{k} -" for k, v in trial.pearson.items()
        )
        mean = "-" if trial.mean is None else f"{trial.mean:.3f}"
        typer.echo(f"LLM weight {trial.weights.label}: Pearson on train {figures} (mean {mean})")
    where = f"stored in {path}" if write else "not stored (--dry-run)"
    typer.echo(f"{result.model}: LLM weight {result.best.label} ({where}).")


@app.command("all")
def eval_all(limit: LimitOption = None, llm: LlmOption = True, as_json: JsonOption = False) -> None:
    """Every set in eval/ (retrieval, grading, interview, hostile, Mohler, LE) into one
    report."""
    from coach.evaluation.suite import PARTS, EvalOptions

    _run(list(PARTS), EvalOptions(use_llm=llm, limit=limit), as_json)


@app.command("convert-mohler")
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
            source or settings.paths.mohler_source_dir, output or settings.paths.eval_dir / "mohler"
        )
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    typer.echo(
        f"{result.rows} answers to {result.questions} questions -> {result.output} "
        f"(human scores {result.min_score:g}-{result.max_score:g}); copied "
        + ", ".join(p.name for p in result.copied)
    )


@app.command("grading")
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
    path = cases or settings.paths.eval_dir / "grading.jsonl"
    if not path.is_file():
        fail(f"{path} not found (run from the project folder).")
    loaded = load_cases(path)
    if not no_llm:
        from coach.llm.client import ModelServerUnavailable, check_server

        try:
            check_server(settings)
        except ModelServerUnavailable as exc:
            # Grading would silently fall back to the rubric: figures labelled "with the
            # LLM" would be the rubric's.
            fail(str(exc))
    try:
        result = evaluate(settings, loaded, use_llm=not no_llm)
    except (StoreError, ReferenceError) as exc:
        fail(str(exc))
    if as_json:
        print_json(result.model_dump())
        return
    typer.echo(
        f"{len(loaded)} answers from {path}; graded by "
        + ("rubric + LLM" if not no_llm else "rubric only (--no-llm)")
    )
    typer.echo(text_table(HEADERS, table_rows(result)))
    if not no_llm:
        from coach.grading.flags import LLM_FALLBACK_FLAGS

        fallbacks = sum(1 for c in result.cases if any(f in c.flags for f in LLM_FALLBACK_FLAGS))
        typer.echo(f"LLM verdict missing (rubric alone) for {fallbacks} of {len(result.cases)}.")
    if show_cases:
        for c in result.cases:
            mark = " " if c.in_band else "!"
            typer.echo(
                f"{mark} {c.id} {c.kind:<18} {c.score:5.2f} band {list(c.band)} {','.join(c.flags)}"
            )
