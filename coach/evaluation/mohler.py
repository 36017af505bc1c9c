"""Convert the Mohler et al. 2011 short-answer set into coach's batch format.

Why: it is the public, human-scored set the DESIGN names for measuring grading
agreement with people. Converted once into ``eval/mohler/answers.csv`` (the columns
``coach grade`` reads: id, question, answer, reference) with the human scores rescaled
from 0-5 to coach's 0-10, so the very same file goes through ``coach grade`` and
``coach eval mohler``. The licence and provenance notes travel with it.

Source format (see its SOURCE.md): one JSON object per answer with ``score`` = the mean
of two graders on 0-5 and each grader's own score normalised to 0-5.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from pydantic import BaseModel, ValidationError

SOURCE_FILE = "mohler2011_unt_cs.jsonl"
PROVENANCE_FILES = ("mohler2011_unt_cs.SOURCE.md", "mohler2011_unt_cs.LICENSE.txt")
ANSWERS_FILE = "answers.csv"
SOURCE_SCALE = 5.0
COACH_SCALE = 10.0
COLUMNS = (
    "id",
    "question",
    "answer",
    "reference",
    "human_score",
    "human_score_grader1",
    "human_score_grader2",
    "question_id",
    "group",
)
"""``human_score`` is the averaged gold score on 0-10; ``group`` is the assignment or exam
(the paper's cross-validation folds)."""


class MohlerSourceRow(BaseModel):
    """The fields of one source record that the conversion uses."""

    id: str
    question_id: str
    question: str
    reference_answer: str
    answer: str
    score: float
    score_max: float
    score_grader1_ta_norm5: float
    score_grader2_mohler_norm5: float
    assignment: int


class ConversionReport(BaseModel):
    source: Path
    output: Path
    rows: int
    questions: int
    min_score: float
    max_score: float
    copied: list[Path]


def _rescale(value: float, source_max: float) -> float:
    return round(value * COACH_SCALE / source_max, 4)


def read_source(path: Path) -> list[MohlerSourceRow]:
    if not path.is_file():
        raise FileNotFoundError(
            f"Mohler source {path} not found; point --source (or COACH_MOHLER_SOURCE_DIR) at the "
            f"folder holding {SOURCE_FILE}."
        )
    rows = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(MohlerSourceRow.model_validate_json(line))
        except ValidationError as exc:
            raise ValueError(f"{path}:{number} is not a Mohler record: {exc}") from exc
    return rows


def to_batch_row(row: MohlerSourceRow) -> dict[str, str | float]:
    return {
        "id": row.id,
        "question": row.question,
        "answer": row.answer,
        "reference": row.reference_answer,
        "human_score": _rescale(row.score, row.score_max),
        "human_score_grader1": _rescale(row.score_grader1_ta_norm5, SOURCE_SCALE),
        "human_score_grader2": _rescale(row.score_grader2_mohler_norm5, SOURCE_SCALE),
        "question_id": row.question_id,
        "group": f"assignment-{row.assignment}",
    }


def convert(source_dir: Path, output_dir: Path) -> ConversionReport:
    """Write ``output_dir/answers.csv`` and copy the SOURCE and LICENSE files beside it."""
    source = source_dir / SOURCE_FILE
    rows = [to_batch_row(r) for r in read_source(source)]
    if not rows:
        raise ValueError(f"{source} holds no records.")
    output_dir.mkdir(parents=True, exist_ok=True)
    output = output_dir / ANSWERS_FILE
    with output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    copied = []
    for name in PROVENANCE_FILES:
        if (source_dir / name).is_file():
            copied.append(Path(shutil.copyfile(source_dir / name, output_dir / name)))
    scores = [float(r["human_score"]) for r in rows]
    return ConversionReport(
        source=source,
        output=output,
        rows=len(rows),
        questions=len({r["question_id"] for r in rows}),
        min_score=min(scores),
        max_score=max(scores),
        copied=copied,
    )


def read_published(path: Path) -> list[dict[str, object]]:
    """The published figures to print beside coach's own (eval/mohler/published.json)."""
    if not path.is_file():
        return []
    return json.loads(path.read_text("utf-8"))["systems"]
