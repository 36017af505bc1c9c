"""How much of the score the served model earns: measured, then stored in coach.toml.

Why measured per model: the weight of the LLM's signal belongs to the model, not to the
code. The 1.5B pack checks correctness but cannot judge depth; a bigger model on a GPU
judges more and should count more. So ``coach eval fit-weight`` grades the *train*
splits (eval/interview.jsonl's and LE's) once with the served model, keeping for each
answer the evidence side's findings and the model's score, then recomputes the final
score (grading/formula.py) for each candidate and keeps the one with the best mean
Pearson over the two sets. A candidate is a weight for short answers, one for long
answers and the length between them (content characters): a small model's check helps
where the evidence side has few words to read and hurts where it mostly rewards length.
A split by length is kept only when it beats the best single weight by
``MIN_SPLIT_GAIN``, so three numbers are not fitted where one does as well. Nothing from
an ``eval`` split is read.
"""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel

from coach.common.text import content_chars
from coach.config import Settings
from coach.evaluation.metrics import pearson
from coach.grading import formula
from coach.progress import progress_bar

if TYPE_CHECKING:
    from coach.grading.grader import Grader

WEIGHTS = tuple(round(w, 2) for w in np.arange(0.0, 0.81, 0.1))
SHORT_CHARS = (20, 40, 80, 160, 320)
"""Lengths tried as the boundary between short and long answers (content characters)."""
MIN_SPLIT_GAIN = 0.005
"""Mean Pearson a split by length must add over the best single weight to be chosen."""


class Finding(BaseModel):
    set: str
    human: float
    base: float
    content: float
    factor: float
    wrong_share: float
    flags: list[str]
    llm: float | None
    chars: int
    """Content characters of the graded answer."""


class LlmWeights(BaseModel):
    """What ``coach eval fit-weight`` stores: ``[grading]`` weight_scorer (long answers),
    weight_scorer_short and short_answer_chars."""

    short: float
    long: float
    chars: int

    @property
    def label(self) -> str:
        if self.short == self.long:
            return f"{self.long:g} for every answer"
        return f"{self.short:g} under {self.chars} characters, {self.long:g} above"


class Trial(BaseModel):
    weights: LlmWeights
    pearson: dict[str, float | None]
    """Set -> Pearson on its train split."""
    mean: float | None


class WeightFit(BaseModel):
    model: str
    answers: dict[str, int]
    trials: list[Trial]
    """Every candidate, best first."""
    best: LlmWeights
    single: Trial
    """The best candidate with one weight for every answer (what a split must beat)."""


def _train_rows(settings: Settings) -> list[tuple[str, str, str, str | None, str | None, float]]:
    """(set, question, answer, reference, card id, human score) of both train splits."""
    from coach.evaluation.interview import load_cases

    rows: list[tuple[str, str, str, str | None, str | None, float]] = []
    for case in load_cases(settings.paths.eval_dir / "interview.jsonl"):
        if case.split == "train":
            rows.append(("interview", case.question, case.answer, None, case.card_id, case.score))
    le = settings.paths.eval_dir / "le" / "answers.csv"
    with le.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("split") == "train":
                rows.append(
                    (
                        "le",
                        row["question"],
                        row["answer"],
                        row["reference"],
                        None,
                        float(row["human_score"]),
                    )
                )
    return rows


async def _findings(
    grader: Grader,
    rows: list[tuple[str, str, str, str | None, str | None, float]],
    concurrency: int,
) -> list[Finding]:
    grader.add_references([r[3] for r in rows if r[3]])
    semaphore = asyncio.Semaphore(concurrency)
    bar = progress_bar(total=len(rows), unit="answer", desc="fit-weight")

    async def one(row: tuple[str, str, str, str | None, str | None, float]) -> Finding:
        name, question, answer, reference, card_id, human = row
        ref = await asyncio.to_thread(
            grader.references.find, question, reference=reference, card_id=card_id
        )
        found = await asyncio.to_thread(grader.rubric.grade, question, answer, ref)
        assert grader.scorer is not None
        async with semaphore:
            outcome = await grader.scorer.ascore(
                question, found.graded_text or answer, ref, found.flags
            )
        bar.update(1)
        return Finding(
            set=name,
            human=human,
            base=found.base,
            content=found.content,
            factor=found.correctness_factor,
            wrong_share=found.wrong_share,
            flags=[*found.flags, *outcome.flags],
            llm=outcome.score,
            chars=content_chars(found.graded_text or answer),
        )

    with bar:
        return list(await asyncio.gather(*(one(r) for r in rows)))


def _candidates() -> list[LlmWeights]:
    singles = [LlmWeights(short=w, long=w, chars=0) for w in WEIGHTS]
    splits = [
        LlmWeights(short=a, long=b, chars=c)
        for c in SHORT_CHARS
        for a in WEIGHTS
        for b in WEIGHTS
        if a != b
    ]
    return singles + splits


def _trial(settings: Settings, findings: list[Finding], weights: LlmWeights) -> Trial:
    grading = settings.grading.model_copy(
        update={
            "weight_scorer": weights.long,
            "weight_scorer_short": weights.short,
            "short_answer_chars": weights.chars,
        }
    )
    trial = settings.model_copy(update={"grading": grading})
    row: dict[str, float | None] = {}
    for name in sorted({f.set for f in findings}):
        part = [f for f in findings if f.set == name]
        scores = [
            formula.final_score(
                f.base, f.content, f.factor, f.flags, trial, f.llm, f.wrong_share, f.chars
            )
            for f in part
        ]
        row[name] = pearson(scores, [f.human for f in part])
    values = [v for v in row.values() if v is not None]
    return Trial(weights=weights, pearson=row, mean=float(np.mean(values)) if values else None)


def fit(settings: Settings, findings: list[Finding]) -> WeightFit:
    trials = [_trial(settings, findings, w) for w in _candidates()]
    trials.sort(key=lambda t: -2.0 if t.mean is None else t.mean, reverse=True)
    singles = [t for t in trials if t.weights.short == t.weights.long]
    single = singles[0]
    best = trials[0]
    if (best.mean or -2.0) < (single.mean or -2.0) + MIN_SPLIT_GAIN:
        best = single
    names = sorted({f.set for f in findings})
    return WeightFit(
        model=settings.llm.model,
        answers={name: sum(1 for f in findings if f.set == name) for name in names},
        trials=trials,
        best=best.weights,
        single=single,
    )


def measure(
    settings: Settings, grader: Grader | None = None, limit: int | None = None
) -> WeightFit:
    """Grade both train splits with the served model and fit the weight. ``limit``: at
    most this many answers per set (a seeded sample; on a CPU server each takes
    seconds)."""
    import random

    if grader is None:
        from coach.grading.grader import Grader

        grader = Grader(settings, use_llm=True)
    rows = _train_rows(settings)
    if limit:
        rng = random.Random(settings.evaluation.sample_seed)
        rows = [
            r
            for name in sorted({r[0] for r in rows})
            for r in sorted(
                rng.sample(
                    [x for x in rows if x[0] == name],
                    min(limit, sum(1 for x in rows if x[0] == name)),
                ),
                key=rows.index,
            )
        ]
    findings = asyncio.run(_findings(grader, rows, settings.batch.concurrency))
    return fit(settings, findings)


def store(weights: LlmWeights, path: Path) -> None:
    """Write ``[grading]`` weight_scorer, weight_scorer_short and short_answer_chars into
    ``path`` (coach.toml), keeping the rest of the file (comments included) as it was."""
    import tomlkit

    document = tomlkit.parse(path.read_text("utf-8")) if path.is_file() else tomlkit.document()
    if "grading" not in document:
        document["grading"] = tomlkit.table()
    section = document["grading"]
    section["weight_scorer"] = weights.long  # type: ignore[index]
    section["weight_scorer_short"] = weights.short  # type: ignore[index]
    section["short_answer_chars"] = weights.chars  # type: ignore[index]
    path.write_text(tomlkit.dumps(document), "utf-8")
