"""How well coach's grades agree with human graders on a human-scored batch file.

Why through batch grading: the figures then describe exactly what a user running
``coach grade --input FILE --output OUT [--no-llm]`` gets, same reader, same grader,
same concurrency. The file needs the batch columns (id, question, answer, reference)
plus ``human_score`` on 0-10; ``group`` (folds for calibration) and
``human_score_grader1``/``_grader2`` (for the inter-grader ceiling) are optional.
eval/mohler/answers.csv is such a file.
"""

from __future__ import annotations

import csv
import random
import re
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field

from coach.batch.models import BatchResult
from coach.config import Settings
from coach.evaluation.agreement import COACH_SCALE, Agreement, HumanScore, agreement
from coach.evaluation.metrics import mae, pearson, rmse, spearman
from coach.grading.flags import LLM_FALLBACK_FLAGS
from coach.grading.models import AsyncGrader


class AgreementRun(BaseModel):
    """Everything ``coach eval mohler`` measured in one go."""

    input: Path
    rows: int
    """Rows in the file (before any sample)."""
    results: list[Agreement] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    """Configurations not run, each with why (e.g. the model server is down)."""
    notes: list[str] = Field(default_factory=list)
    """Caveats about runs that did happen (e.g. some answers fell back to the rubric)."""
    inter_grader: Agreement | None = None
    """Grader 1 against grader 2 on the same scale: the ceiling to compare with."""
    outputs: list[Path] = Field(default_factory=list)
    """The graded files (JSONL + HTML report) kept for inspection."""
    rerun_max_diff: float | None = None
    """Largest |score difference| when the same sample is graded twice (no LLM)."""
    rerun_answers: int = 0


def load_human_scores(path: Path) -> dict[str, HumanScore]:
    """id -> human score; fails with the column that is missing."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"id", "human_score"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(
                f"{path} lacks the column(s) {sorted(missing)}; a human-scored file needs id "
                "and human_score (0-10) besides question, answer and reference."
            )
        rows = {}
        for record in reader:

            def number(key: str, record: dict[str, str] = record) -> float | None:
                value = (record.get(key) or "").strip()
                return float(value) if value else None

            human = number("human_score")
            if human is None:
                continue
            rows[record["id"]] = HumanScore(
                id=record["id"],
                human=human,
                group=record.get("group") or "",
                grader1=number("human_score_grader1"),
                grader2=number("human_score_grader2"),
                split=record.get("split") or "",
            )
    return rows


def sample_ids(ids: list[str], limit: int | None, seed: int) -> list[str]:
    """A seeded random sample of ``limit`` ids in file order (all when limit is None)."""
    if limit is None or limit >= len(ids):
        return list(ids)
    chosen = set(random.Random(seed).sample(ids, limit))
    return [i for i in ids if i in chosen]


def write_subset(path: Path, ids: list[str], target: Path) -> Path:
    """Copy the rows of ``path`` whose id is in ``ids`` (all columns) to ``target``."""
    wanted = set(ids)
    with path.open(encoding="utf-8-sig", newline="") as source:
        reader = csv.DictReader(source)
        with target.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
            writer.writeheader()
            writer.writerows(r for r in reader if r["id"] in wanted)
    return target


def read_results(path: Path) -> list[BatchResult]:
    lines = path.read_text("utf-8").splitlines()
    return [BatchResult.model_validate_json(line) for line in lines if line.strip()]


def score_results(
    label: str,
    results: list[BatchResult],
    humans: dict[str, HumanScore],
    *,
    scale: float,
    settings: Settings,
) -> Agreement:
    """Join graded rows with the human scores by id."""
    graded = [r for r in results if r.status == "ok" and r.score is not None and r.id in humans]
    flags = Counter(f for r in graded for f in r.flags)
    return agreement(
        label,
        [(humans[r.id], float(r.score or 0.0)) for r in graded],
        scale=scale,
        settings=settings,
        errors=sum(1 for r in results if r.status == "error"),
        flags=dict(flags.most_common()),
    )


def inter_grader(humans: list[HumanScore], *, scale: float, settings: Settings) -> Agreement | None:
    """The human ceiling (when the file has both graders): Pearson between the two
    graders, RMSE of one grader against their average."""
    both = [h for h in humans if h.grader1 is not None and h.grader2 is not None]
    if len(both) < 2:
        return None
    factor = scale / COACH_SCALE
    first = [float(h.grader1 or 0.0) * factor for h in both]
    second = [float(h.grader2 or 0.0) * factor for h in both]
    average = [h.human * factor for h in both]
    return Agreement(
        label="two human graders",
        answers=len(both),
        pearson=pearson(first, second),
        spearman=spearman(first, second),
        # As in Mohler et al.'s IAA row: either grader against the average (both are equal).
        rmse=rmse(first, average),
        calibrated_rmse=None,
        mae=mae(first, average),
        mean_coach=sum(second) / len(second),
        mean_human=sum(first) / len(first),
        scale=scale,
    )


async def grade_and_compare(
    input_path: Path,
    work_dir: Path,
    *,
    settings: Settings,
    use_llm: bool,
    limit: int | None,
    scale: float,
    name: str,
    progress: bool = True,
    grader: AsyncGrader | None = None,
    checks: bool = False,
) -> AgreementRun:
    """Grade ``input_path`` rubric-only and, when asked and reachable, with the LLM.

    Without ``limit`` the rubric grades every row and the LLM a sample of
    ``eval_llm_sample`` rows (the rubric's figures on that same sample are reported too,
    so the two are compared like for like). ``grader`` replaces coach's grader in both
    runs (tests pass fakes).
    """
    from coach.batch.run import arun_batch
    from coach.evaluation.llm_targets import llm_targets

    humans = load_human_scores(input_path)
    ids = list(humans)
    run = AgreementRun(input=input_path, rows=len(ids))
    rubric_ids = sample_ids(ids, limit, settings.evaluation.sample_seed)
    run.inter_grader = inter_grader([humans[i] for i in rubric_ids], scale=scale, settings=settings)
    work_dir.mkdir(parents=True, exist_ok=True)

    async def grade(
        ids_to_grade: list[str], tag: str, label: str, run_settings: Settings, llm: bool
    ) -> list[BatchResult]:
        subset = write_subset(input_path, ids_to_grade, work_dir / f"{name}-{tag}-input.csv")
        output = work_dir / f"{name}-{tag}.jsonl"
        report = await arun_batch(
            subset, output, settings=run_settings, use_llm=llm, grader=grader, progress=progress
        )
        subset.unlink()
        run.outputs += [report.output_path, report.report_path]
        results = read_results(output)
        scores = score_results(label, results, humans, scale=scale, settings=settings)
        scores.seconds, scores.answers_per_second = (
            report.grading_seconds,
            report.answers_per_second,
        )
        run.results.append(scores)
        return results

    rubric = await grade(rubric_ids, "rubric", "rubric", settings, llm=False)
    _split_figures(run, rubric, humans, scale=scale, settings=settings)
    if checks:
        await _checks(
            run,
            rubric,
            input_path,
            work_dir,
            rubric_ids,
            humans,
            grader,
            name,
            settings=settings,
            scale=scale,
        )
    targets = llm_targets(settings, use_llm)
    run.skipped += targets.skipped
    if not targets.settings:
        return run
    llm_ids = sample_ids(
        rubric_ids, limit or settings.evaluation.llm_sample, settings.evaluation.sample_seed
    )
    for model_settings in targets.settings:
        model = model_settings.llm.model
        label = f"rubric + LLM ({model})"
        graded = await grade(llm_ids, f"llm-{slug(model)}", label, model_settings, llm=True)
        _split_figures(run, graded, humans, scale=scale, settings=settings)
        fallbacks = {f: n for f, n in run.results[-1].flags.items() if f in LLM_FALLBACK_FLAGS}
        if fallbacks:
            run.notes.append(f"{label}: some answers fell back to the rubric ({fallbacks}).")
    if len(llm_ids) < len(rubric_ids):
        same = [r for r in rubric if r.id in set(llm_ids)]
        label = f"rubric (same {len(llm_ids)} answers)"
        run.results.append(score_results(label, same, humans, scale=scale, settings=settings))
    return run


async def _checks(
    run: AgreementRun,
    rubric: list[BatchResult],
    input_path: Path,
    work_dir: Path,
    rubric_ids: list[str],
    humans: dict[str, HumanScore],
    grader: AsyncGrader | None,
    name: str,
    *,
    settings: Settings,
    scale: float,
) -> None:
    """The baselines on the same answers, and a second run of a sample (stability)."""
    from coach.batch.run import arun_batch
    from coach.evaluation.baselines import baseline_agreements

    run.results += baseline_agreements(
        input_path, rubric_ids, humans, settings=settings, scale=scale
    )
    rerun_ids = sample_ids(
        rubric_ids, settings.evaluation.rerun_sample, settings.evaluation.sample_seed + 1
    )
    first = {r.id: r.score for r in rubric if r.id in set(rerun_ids)}
    subset = write_subset(input_path, rerun_ids, work_dir / f"{name}-rerun-input.csv")
    rerun_out = work_dir / f"{name}-rerun.jsonl"
    await arun_batch(
        subset,
        rerun_out,
        settings=settings,
        use_llm=False,
        grader=grader or _fresh_grader(settings, input_path, rubric_ids),
        progress=False,
    )
    subset.unlink()
    again = {r.id: r.score for r in read_results(rerun_out)}
    diffs = [
        abs(float(first[i]) - float(again[i]))
        for i in first
        if first[i] is not None and again.get(i) is not None
    ]
    run.rerun_max_diff = max(diffs) if diffs else None
    run.rerun_answers = len(diffs)


def _fresh_grader(settings: Settings, input_path: Path, ids: list[str]) -> AsyncGrader:
    """A new grader whose IDF pool holds the same references as the first run's batch,
    so a rerun of a sample is compared like for like."""
    from coach.grading.grader import Grader

    grader = Grader(settings, use_llm=False)
    add_references = getattr(grader, "add_references", None)
    if add_references is not None:
        wanted = set(ids)
        with input_path.open(encoding="utf-8-sig", newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r["id"] in wanted]
        add_references([r.get("reference") or "" for r in rows])
    return grader


def _split_figures(
    run: AgreementRun,
    results: list[BatchResult],
    humans: dict[str, HumanScore],
    *,
    scale: float,
    settings: Settings,
) -> None:
    """One more row per split (e.g. LE's ``eval``) when the file has a split column:
    a parameter chosen on one split is reported on the other."""
    label = run.results[-1].label
    for split in sorted({h.split for h in humans.values() if h.split}):
        chosen = [r for r in results if humans.get(r.id) and humans[r.id].split == split]
        if len(chosen) >= 2:
            run.results.append(
                score_results(f"{label} [{split}]", chosen, humans, scale=scale, settings=settings)
            )


def slug(name: str) -> str:
    """A model name as a file-name part (``org/model:tag`` -> ``org-model-tag``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "model"
