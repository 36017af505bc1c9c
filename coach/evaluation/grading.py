"""How well grades follow expected bands on eval/grading.jsonl.

Each case is an answer written to be of one kind (complete, partial, wrong built from
the reference's own words, off-topic, empty, injection, keyword stuffing, English,
plain-language synonyms) with the band a careful human would give it. Reported: Spearman
and Pearson against the band midpoints, MAE to the midpoint, and the share of grades
inside their band, overall and per kind — per kind because an average hides exactly the
failures DESIGN.md measured (stuffing and negation fooling overlap measures).
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from coach.config import Settings
from coach.evaluation.metrics import mae, pearson, share_in_band, spearman
from coach.progress import progress_bar

if TYPE_CHECKING:
    from coach.grading.grader import Grader


class GradingCase(BaseModel):
    id: str
    question: str
    answer: str
    kind: str
    band: tuple[float, float]
    card_id: str | None = None
    reference: str | None = None


class GradedCase(BaseModel):
    id: str
    kind: str
    band: tuple[float, float]
    score: float
    flags: list[str] = Field(default_factory=list)

    @property
    def in_band(self) -> bool:
        return self.band[0] <= self.score <= self.band[1]


class BandScores(BaseModel):
    group: str
    cases: int
    spearman: float | None
    pearson: float | None
    mae: float
    in_band: float
    mean_score: float


class GradingEval(BaseModel):
    use_llm: bool
    overall: BandScores
    by_kind: list[BandScores]
    cases: list[GradedCase]


def load_cases(path: Path) -> list[GradingCase]:
    lines = path.read_text("utf-8").splitlines()
    return [GradingCase(**json.loads(line)) for line in lines if line.strip()]


def band_scores(group: str, graded: list[GradedCase]) -> BandScores:
    scores = [g.score for g in graded]
    mids = [(g.band[0] + g.band[1]) / 2 for g in graded]
    return BandScores(
        group=group,
        cases=len(graded),
        spearman=spearman(scores, mids),
        pearson=pearson(scores, mids),
        mae=mae(scores, mids),
        in_band=share_in_band(scores, [tuple(g.band) for g in graded]),
        mean_score=sum(scores) / len(scores),
    )


async def _grade_all(
    grader: Grader, cases: list[GradingCase], concurrency: int, progress: bool
) -> list[GradedCase]:
    """Up to ``concurrency`` answers at once, like a batch: with a CPU judge one at a
    time took tens of minutes. The figures do not depend on it (temperature 0, a seed;
    results are kept in the set's order)."""
    semaphore = asyncio.Semaphore(concurrency)
    bar = progress_bar(total=len(cases), unit="answer", desc="grading set", disable=not progress)

    async def one(case: GradingCase) -> GradedCase:
        async with semaphore:
            grade = await grader.agrade(
                case.question, case.answer, reference=case.reference, card_id=case.card_id
            )
        bar.update(1)
        return GradedCase(
            id=case.id, kind=case.kind, band=case.band, score=grade.score, flags=grade.flags
        )

    with bar:
        return list(await asyncio.gather(*(one(c) for c in cases)))


def evaluate(
    settings: Settings,
    cases: list[GradingCase],
    *,
    use_llm: bool,
    grader: Grader | None = None,
    progress: bool = True,
) -> GradingEval:
    if grader is None:
        from coach.grading.grader import Grader

        grader = Grader(settings, use_llm=use_llm)
    graded = asyncio.run(_grade_all(grader, cases, settings.batch.concurrency, progress))
    kinds: dict[str, list[GradedCase]] = defaultdict(list)
    for g in graded:
        kinds[g.kind].append(g)
    return GradingEval(
        use_llm=use_llm,
        overall=band_scores("all", graded),
        by_kind=[band_scores(kind, items) for kind, items in kinds.items()],
        cases=graded,
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def table_rows(result: GradingEval) -> list[list[str]]:
    return [
        [
            s.group,
            str(s.cases),
            _fmt(s.spearman),
            _fmt(s.pearson),
            _fmt(s.mae),
            f"{s.in_band:.2f}",
            f"{s.mean_score:.2f}",
        ]
        for s in [result.overall, *result.by_kind]
    ]


HEADERS = ["kind", "n", "spearman", "pearson", "MAE", "in band", "mean"]
