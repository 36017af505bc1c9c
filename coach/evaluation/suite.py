"""Run the evaluation sets in eval/, write one report, and return the headline figures.

Each part (retrieval, grading, mohler) runs on its own: when one cannot run (no index
yet, its set or module missing, the model server down) the report and the terminal say
so and why, and the other parts still run. Parts return plain text lines for the
terminal; the Markdown and plots go into the shared ``Report``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from coach.config import Settings
from coach.evaluation import plots
from coach.evaluation.agreement import Agreement
from coach.evaluation.human_agreement import AgreementRun, grade_and_compare, slug
from coach.evaluation.mohler import ANSWERS_FILE, read_published
from coach.evaluation.report import Report, fmt, text_table

Part = Literal["retrieval", "grading", "interview", "hostile", "mohler", "le"]
PARTS: tuple[Part, ...] = ("retrieval", "grading", "interview", "hostile", "mohler", "le")
MOHLER_DIR = "mohler"
LE_DIR = "le"
LE_SCALE = 10.0
"""LE's human scores are the original 0-1 times 10 (eval/le/SOURCE.md)."""
MOHLER_SCALE = 5.0
"""Mohler's human scores run 0-5; its published RMSEs are on that scale."""


class EvalOptions(BaseModel):
    use_llm: bool = True
    """Grade with the LLM too (when a server answers); ``--no-llm`` for rubric only."""
    limit: int | None = Field(default=None, ge=1)
    """Grade this many answers per set: a seeded random sample of a human-scored set, the
    first N of the grading set (it is written card by card, so these are whole cards)."""
    progress: bool = True
    checks: bool = True
    """Human-scored sets: also the baselines and a rerun of a sample (stability)."""
    retrieval_cases: Path | None = None
    """Default: ``<eval_dir>/retrieval.jsonl``."""


class PartResult(BaseModel):
    lines: list[str]
    """Figures for the terminal."""
    data: object = None
    """The part's results as pydantic models / plain data (``--json``)."""


class EvalOutcome(BaseModel):
    report_path: Path
    headlines: list[str]
    """Figures for the terminal, one line each."""
    data: dict[str, object] = Field(default_factory=dict)


def run_eval(settings: Settings, parts: list[Part], options: EvalOptions) -> EvalOutcome:
    """Run ``parts`` in order into one report under ``settings.paths.eval_reports_dir``."""
    kind = parts[0] if len(parts) == 1 else "eval-all"
    report = Report.new(
        settings, kind if kind.startswith("eval") else f"eval-{kind}", "coach evaluation report"
    )
    setup = f"Sets from `{settings.paths.eval_dir}`; embedding model `{settings.embedding.model}`"
    if any(p != "retrieval" for p in parts):
        setup += (
            f"; LLM `{settings.llm.model}` at `{settings.llm.base_url}` "
            f"({'used when reachable' if options.use_llm else 'not used: --no-llm'})"
        )
    report.text(f"{setup}. Run on {datetime.now():%Y-%m-%d %H:%M}.")
    runners: dict[Part, Callable[[Settings, Report, EvalOptions], PartResult]] = {
        "retrieval": retrieval_part,
        "grading": grading_part,
        "interview": interview_part,
        "hostile": hostile_part,
        "mohler": mohler_part,
        "le": le_part,
    }
    headlines: list[str] = []
    data: dict[str, object] = {}
    for part in parts:
        result = runners[part](settings, report, options)
        headlines += [*result.lines, ""]
        data[part] = result.data
    path = report.write()
    headlines.append(f"Report: {path}")
    return EvalOutcome(report_path=path, headlines=headlines, data=data)


def _skip(report: Report, title: str, reason: str) -> PartResult:
    report.heading(title)
    report.text(f"Skipped: {reason}")
    return PartResult(lines=[f"{title}: skipped: {reason}"], data={"skipped": reason})


# --- retrieval ---------------------------------------------------------------------------


def retrieval_part(settings: Settings, report: Report, options: EvalOptions) -> PartResult:
    from coach.evaluation.retrieval import evaluate_all, load_cases
    from coach.index.retriever import HybridSearcher
    from coach.index.store import StoreError

    title = "Retrieval"
    cases_path = options.retrieval_cases or settings.paths.eval_dir / "retrieval.jsonl"
    if not cases_path.is_file():
        return _skip(report, title, f"{cases_path} not found (run from the project folder).")
    try:
        searcher = HybridSearcher(settings)
    except StoreError as exc:
        return _skip(report, title, str(exc))
    cases = load_cases(cases_path)
    results = evaluate_all(searcher, cases)
    headers = ["retriever", "recall@1", "recall@5", "MRR", "misses@5"]
    rows = [
        [r.mode, fmt(r.recall_at_1), fmt(r.recall_at_5), fmt(r.mrr), len(r.misses)] for r in results
    ]
    report.heading(title)
    report.text(
        f"{len(cases)} paraphrased questions from `{cases_path}`; a hit counts when it is a "
        "card with the expected source (top 10 searched)."
    )
    report.table(headers, rows)
    report.figure("retrieval", plots.retrieval_bars(results), "Recall and MRR per retriever")
    report.figure("retrieval-by-style", plots.retrieval_by_style(results), "Recall@5 by style")
    hybrid = results[-1]
    if hybrid.misses:
        report.text("Hybrid misses at 5:")
        report.bullets(hybrid.misses)
    lines = [f"Retrieval ({len(cases)} queries from {cases_path})", text_table(headers, rows)]
    lines += [f"  hybrid miss@5: {q}" for q in hybrid.misses]
    return PartResult(lines=lines, data=results)


# --- grading against expected bands (measured by coach/evaluation/grading.py) ---------


def grading_part(settings: Settings, report: Report, options: EvalOptions) -> PartResult:
    """eval/grading.jsonl graded rubric-only and with each reachable model; the
    measurement is coach.evaluation.grading's, the report and the model loop are here."""
    from coach.evaluation.llm_targets import llm_targets

    title = "Grading against expected bands (eval/grading.jsonl)"
    try:
        from coach.evaluation import grading
    except ImportError as exc:
        return _skip(report, title, f"coach.evaluation.grading cannot be imported ({exc}).")
    path = settings.paths.eval_dir / "grading.jsonl"
    if not path.is_file():
        return _skip(report, title, f"{path} not found (run from the project folder).")
    cases = grading.load_cases(path)
    if options.limit:
        cases = cases[: options.limit]
    targets = llm_targets(settings, options.use_llm)
    runs = [("rubric", grading.evaluate(settings, cases, use_llm=False))]
    for model_settings in targets.settings:
        label = f"rubric + LLM ({model_settings.llm.model})"
        runs.append((label, grading.evaluate(model_settings, cases, use_llm=True)))

    report.heading(title)
    kinds = sorted({c.kind for c in cases})
    report.text(
        f"{len(cases)} answers written to be of one kind ({', '.join(kinds)}), each with the "
        "score band a careful human would give it. Spearman and Pearson against the band "
        "midpoints, MAE to the midpoint, and the share of scores inside their band, overall "
        "and per kind (an average hides the kinds that fool a grader)."
    )
    lines = [f"Grading ({len(cases)} answers from {path})"]
    for label, result in runs:
        rows = grading.table_rows(result)
        report.heading(label, level=3)
        report.table(grading.HEADERS, rows)
        report.figure(
            f"grading-{slug(label)}",
            plots.expected_vs_coach(
                [c.kind for c in result.cases],
                [(c.band[0] + c.band[1]) / 2 for c in result.cases],
                [c.score for c in result.cases],
                f"{label}: coach score vs expected band midpoint",
            ),
            f"{label}: score vs expected",
        )
        misses = [c for c in result.cases if not c.in_band]
        if misses:
            report.text(f"Outside their band ({len(misses)}):")
            report.bullets(
                [
                    f"{c.id} ({c.kind}): {c.score:.2f}, expected {c.band[0]:g}-{c.band[1]:g}"
                    + (f" [{', '.join(c.flags)}]" if c.flags else "")
                    for c in misses
                ]
            )
        lines += [label, text_table(grading.HEADERS, rows)]
    report.bullets(targets.skipped)
    lines += [f"  {s}" for s in targets.skipped]
    return PartResult(lines=lines, data={label: result for label, result in runs})


# --- interview answers scored by an interviewer (coach/evaluation/interview.py) --------


def interview_part(settings: Settings, report: Report, options: EvalOptions) -> PartResult:
    """eval/interview.jsonl graded without and with each reachable model."""
    from coach.evaluation import interview
    from coach.evaluation.llm_targets import llm_targets

    title = "Interview answers scored by an interviewer (eval/interview.jsonl)"
    path = settings.paths.eval_dir / "interview.jsonl"
    if not path.is_file():
        return _skip(report, title, f"{path} not found (run from the project folder).")
    cases = interview.load_cases(path)
    if options.limit:
        cases = cases[: options.limit]
    targets = llm_targets(settings, options.use_llm)
    runs = [("evidence only", interview.evaluate(settings, cases, use_llm=False))]
    for model_settings in targets.settings:
        label = f"with the LLM ({model_settings.llm.model})"
        runs.append((label, interview.evaluate(model_settings, cases, use_llm=True)))
    report.heading(title)
    report.text(
        f"{len(cases)} interview answers of known kinds, each scored 0-10 by an interviewer "
        "(eval/interview.SOURCE.md), split by question into train (parameters were "
        "chosen on it) and eval (reported). Bias is coach minus interviewer. A false guard "
        "is a guard that fired on a kind it should not (an expert flagged as stuffing)."
    )
    lines = [f"Interview set ({len(cases)} answers from {path})"]
    for label, result in runs:
        report.heading(label, level=3)
        report.table(interview.SPLIT_HEADERS, interview.split_rows(result))
        report.table(interview.KIND_HEADERS, interview.kind_rows(result))
        lines += [
            label,
            text_table(interview.SPLIT_HEADERS, interview.split_rows(result)),
            text_table(interview.KIND_HEADERS, interview.kind_rows(result)),
        ]
    report.bullets(targets.skipped)
    lines += [f"  {s}" for s in targets.skipped]
    return PartResult(lines=lines, data={label: result for label, result in runs})


def hostile_part(settings: Settings, report: Report, options: EvalOptions) -> PartResult:
    """eval/hostile.jsonl replayed without and with each reachable model."""
    from coach.evaluation import hostile
    from coach.evaluation.llm_targets import llm_targets

    title = "Hostile answers (eval/hostile.jsonl): none above its honest base"
    path = settings.paths.eval_dir / "hostile.jsonl"
    if not path.is_file():
        return _skip(report, title, f"{path} not found (run from the project folder).")
    cases = hostile.load_cases(path)
    targets = llm_targets(settings, options.use_llm)
    runs = [("evidence only", hostile.evaluate(settings, cases, use_llm=False))]
    for model_settings in targets.settings:
        label = f"with the LLM ({model_settings.llm.model})"
        runs.append((label, hostile.evaluate(model_settings, cases, use_llm=True)))
    report.heading(title)
    report.text(hostile.__doc__.split("\n\n", 1)[1].replace("\n", " "))
    lines = [title]
    for label, result in runs:
        head = f"{label}: {result.held} of {len(result.replays)} held"
        report.heading(head, level=3)
        report.table(hostile.HEADERS, hostile.rows(result))
        lines += [head, text_table(hostile.HEADERS, hostile.rows(result))]
    report.bullets(targets.skipped)
    return PartResult(lines=lines, data={label: result for label, result in runs})


# --- Mohler 2011: agreement with human graders -------------------------------------------


def mohler_part(settings: Settings, report: Report, options: EvalOptions) -> PartResult:
    title = "Agreement with human graders: Mohler et al. 2011"
    folder = settings.paths.eval_dir / MOHLER_DIR
    answers = folder / ANSWERS_FILE
    if not answers.is_file():
        return _skip(report, title, f"{answers} not found; run `coach eval convert-mohler` first.")
    run = _compare(settings, report, options, answers, scale=MOHLER_SCALE, name="mohler")
    published = read_published(folder / "published.json")
    return PartResult(lines=render_agreement(report, title, run, published), data=run)


def le_part(settings: Settings, report: Report, options: EvalOptions) -> PartResult:
    title = "Agreement with human graders: LE (Chinese, logistics)"
    answers = settings.paths.eval_dir / LE_DIR / ANSWERS_FILE
    if not answers.is_file():
        return _skip(report, title, f"{answers} not found (run from the project folder).")
    run = _compare(settings, report, options, answers, scale=LE_SCALE, name="le")
    return PartResult(lines=render_agreement(report, title, run, []), data=run)


def _compare(
    settings: Settings,
    report: Report,
    options: EvalOptions,
    answers: Path,
    *,
    scale: float,
    name: str,
) -> AgreementRun:
    """Grade a human-scored set into the report's folder and measure the agreement."""
    return asyncio.run(
        grade_and_compare(
            answers,
            report.directory,
            settings=settings,
            use_llm=options.use_llm,
            limit=options.limit,
            scale=scale,
            name=name,
            progress=options.progress,
            checks=options.checks,
        )
    )


def agreement_rows(run: AgreementRun, published: list[dict[str, object]]) -> list[list[str]]:
    def row(name: str, r: Agreement) -> list[str]:
        return [
            name,
            str(r.answers),
            fmt(r.pearson),
            fmt(r.spearman),
            fmt(r.rmse),
            fmt(r.calibrated_rmse),
        ]

    rows = [row(f"coach: {r.label}", r) for r in run.results]
    if run.inter_grader:
        rows.append(row(f"this sample: {run.inter_grader.label}", run.inter_grader))
    for p in published:
        calibrated = p.get("rmse_kind") == "calibrated"
        rmse_value = p.get("rmse")
        rows.append(
            [
                f"published: {p['system']}",
                str(p.get("answers") or "–"),
                fmt(p.get("pearson")),  # type: ignore[arg-type]
                "–",
                "–" if calibrated else fmt(rmse_value),  # type: ignore[arg-type]
                fmt(rmse_value) if calibrated else "–",  # type: ignore[arg-type]
            ]
        )
    return rows


def render_agreement(
    report: Report, title: str, run: AgreementRun, published: list[dict[str, object]]
) -> list[str]:
    headers = ["grader", "n", "Pearson", "Spearman", "RMSE raw", "RMSE calibrated"]
    rows = agreement_rows(run, published)
    report.heading(title)
    report.text(
        f"`{run.input}` ({run.rows} answers). Coach grades each answer against the given "
        "reference answer with `coach grade --input ... [--no-llm]`. RMSE is on the "
        f"dataset's 0-{run_scale(run):g} scale; *calibrated* RMSE maps coach's score through "
        "isotonic regression learnt on the other groups (Mohler: leave-one-assignment-out, "
        "the protocol behind the paper's RMSE; LE: leave-one-question-out). Rows marked "
        "[train] / [eval] are the same grades on one split. The baselines are computed "
        "in this run with the same e5 model (coach/evaluation/baselines.py). The "
        "two-human-graders row, where there is one, is the ceiling."
    )
    report.table(headers, rows)
    rerun = rerun_line(run)
    report.bullets([*run.skipped, *run.notes, *([rerun] if rerun else [])])
    extra = [
        [
            r.label,
            fmt(r.mae),
            fmt(r.mean_coach),
            fmt(r.mean_human),
            fmt(r.answers_per_second, 1),
            r.errors,
            ", ".join(f"{k} {v}" for k, v in r.flags.items()) or "–",
        ]
        for r in run.results
    ]
    report.table(
        ["grader", "MAE (0-5)", "mean coach", "mean human", "answers/s", "errors", "flags"],
        extra,
    )
    plotted: list[Agreement] = [r for r in run.results if r.pairs]
    if plotted:
        report.figure("mohler-agreement", plots.agreement_scatter(plotted, title), title)
    if run.outputs:
        report.text("Graded rows: " + ", ".join(f"`{p.name}`" for p in run.outputs))
    lines = [f"{title} ({run.rows} answers in {run.input}; RMSE on 0-{run_scale(run):g})"]
    lines.append(text_table(headers, rows))
    lines += [f"  {s}" for s in [*run.skipped, *run.notes, *([rerun] if rerun else [])]]
    return lines


def run_scale(run: AgreementRun) -> float:
    return run.results[0].scale if run.results else MOHLER_SCALE


def rerun_line(run: AgreementRun) -> str:
    if run.rerun_max_diff is None:
        return ""
    return (
        f"Rerun: {run.rerun_answers} answers graded twice (no LLM, a fresh grader): largest "
        f"score difference {run.rerun_max_diff:.4f} (0-10)."
    )
