"""How grades follow an experienced interviewer on eval/interview.jsonl.

Each case is an interview answer of one kind (an expert answer that goes beyond the card,
the card recited, a bare list of its terms, empty talk, confident wrong claims, a correct
answer that argues against a reference term, long empty or off-point answers ...), scored
0-10 by an interviewer with a one-line reason, in a ``train`` or ``eval`` split by
question. Reported: Pearson, RMSE and mean bias per split; the mean score per kind beside
the interviewer's; and how often each guard fired per kind, because a guard that fires on
an expert or a recital is a false positive a candidate sees (eval/interview.SOURCE.md).
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, Field

from coach.config import Settings
from coach.evaluation.metrics import pearson
from coach.grading.flags import GradeFlag
from coach.progress import progress_bar

if TYPE_CHECKING:
    from coach.grading.grader import Grader

GUARDS = (
    GradeFlag.EMPTY,
    GradeFlag.OFF_TOPIC,
    GradeFlag.INJECTION,
    GradeFlag.KEYWORD_STUFFING,
    GradeFlag.CONTRADICTION,
    GradeFlag.NOISE,
)
EXPECTED_GUARDS: dict[str, set[str]] = {
    "bare_list": {GradeFlag.KEYWORD_STUFFING},
    "long_off_point": {GradeFlag.OFF_TOPIC},
    "dont_know": {GradeFlag.EMPTY, GradeFlag.OFF_TOPIC},
    "wrong": {GradeFlag.CONTRADICTION},
    "partly_wrong_expert": {GradeFlag.CONTRADICTION},
    "empty_talk": {GradeFlag.OFF_TOPIC},
    "long_empty": {GradeFlag.OFF_TOPIC},
}
"""Guards that are right to fire on a kind; any other guard on it is a false positive."""


class InterviewCase(BaseModel):
    id: str
    question: str
    answer: str
    kind: str
    score: float = Field(ge=0, le=10)
    reason: str = ""
    split: Literal["train", "eval"]
    card_id: str | None = None
    lang: str = "zh"


class GradedAnswer(BaseModel):
    id: str
    kind: str
    split: str
    human: float
    score: float
    evidence: float | None = None
    depth: float | None = None
    llm_score: float | None = None
    flags: list[str] = Field(default_factory=list)

    @property
    def false_guards(self) -> list[str]:
        allowed = EXPECTED_GUARDS.get(self.kind, set())
        return [f for f in self.flags if f in GUARDS and f not in allowed]


class SplitFigures(BaseModel):
    split: str
    answers: int
    pearson: float | None
    rmse: float
    bias: float
    """Mean of coach minus interviewer (0-10): positive is lenient."""


class KindFigures(BaseModel):
    kind: str
    answers: int
    human: float
    coach: float
    false_guards: dict[str, int] = Field(default_factory=dict)


class InterviewEval(BaseModel):
    use_llm: bool
    splits: list[SplitFigures]
    kinds: list[KindFigures]
    answers: list[GradedAnswer]


def load_cases(path: Path) -> list[InterviewCase]:
    lines = path.read_text("utf-8").splitlines()
    return [InterviewCase(**json.loads(line)) for line in lines if line.strip()]


def split_figures(name: str, graded: list[GradedAnswer]) -> SplitFigures:
    coach = np.array([g.score for g in graded])
    human = np.array([g.human for g in graded])
    return SplitFigures(
        split=name,
        answers=len(graded),
        pearson=pearson(list(coach), list(human)),
        rmse=float(np.sqrt(np.mean((coach - human) ** 2))),
        bias=float(np.mean(coach - human)),
    )


def kind_figures(graded: list[GradedAnswer]) -> list[KindFigures]:
    by_kind: dict[str, list[GradedAnswer]] = defaultdict(list)
    for g in graded:
        by_kind[g.kind].append(g)
    out = []
    for kind, items in by_kind.items():
        false: dict[str, int] = defaultdict(int)
        for g in items:
            for flag in g.false_guards:
                false[flag] += 1
        out.append(
            KindFigures(
                kind=kind,
                answers=len(items),
                human=float(np.mean([g.human for g in items])),
                coach=float(np.mean([g.score for g in items])),
                false_guards=dict(false),
            )
        )
    return sorted(out, key=lambda k: -k.human)


async def _grade_all(
    grader: Grader, cases: list[InterviewCase], concurrency: int, progress: bool
) -> list[GradedAnswer]:
    semaphore = asyncio.Semaphore(concurrency)
    bar = progress_bar(total=len(cases), unit="answer", desc="interview set", disable=not progress)

    async def one(case: InterviewCase) -> GradedAnswer:
        async with semaphore:
            grade = await grader.agrade(case.question, case.answer, card_id=case.card_id)
        bar.update(1)
        return GradedAnswer(
            id=case.id,
            kind=case.kind,
            split=case.split,
            human=case.score,
            score=grade.score,
            evidence=grade.evidence,
            depth=grade.depth,
            llm_score=grade.llm_score,
            flags=grade.flags,
        )

    with bar:
        return list(await asyncio.gather(*(one(c) for c in cases)))


def evaluate(
    settings: Settings,
    cases: list[InterviewCase],
    *,
    use_llm: bool,
    grader: Grader | None = None,
    progress: bool = True,
) -> InterviewEval:
    if grader is None:
        from coach.grading.grader import Grader

        grader = Grader(settings, use_llm=use_llm)
    graded = asyncio.run(_grade_all(grader, cases, settings.batch.concurrency, progress))
    splits = [split_figures("all", graded)]
    for name in ("train", "eval"):
        part = [g for g in graded if g.split == name]
        if part:
            splits.append(split_figures(name, part))
    return InterviewEval(use_llm=use_llm, splits=splits, kinds=kind_figures(graded), answers=graded)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


SPLIT_HEADERS = ["split", "n", "Pearson", "RMSE", "bias"]
KIND_HEADERS = ["kind", "n", "interviewer", "coach", "false guards"]


def split_rows(result: InterviewEval) -> list[list[str]]:
    return [
        [s.split, str(s.answers), _fmt(s.pearson), f"{s.rmse:.2f}", f"{s.bias:+.2f}"]
        for s in result.splits
    ]


def kind_rows(result: InterviewEval) -> list[list[str]]:
    return [
        [
            k.kind,
            str(k.answers),
            f"{k.human:.1f}",
            f"{k.coach:.1f}",
            ", ".join(f"{f} {n}" for f, n in k.false_guards.items()) or "0",
        ]
        for k in result.kinds
    ]
