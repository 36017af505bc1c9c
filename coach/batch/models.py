"""The shapes batch grading reads, journals and writes.

``BatchResult`` is both the journal line and the output row, so a resumed run writes
exactly what an uninterrupted one would have.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from coach.grading.models import PointResult

RowStatus = Literal["ok", "error"]


class BatchError(RuntimeError):
    """A batch cannot start or go on; the message says which file and what to do."""


class BatchInputError(BatchError):
    """The input file cannot be read as a table of answers."""


class JournalError(BatchError):
    """The resume journal is in the way, belongs to another input, or is damaged."""


class BatchBusy(BatchError):
    """Another run is writing the same output right now (it holds the output's lock)."""


class BatchInterrupted(BatchError):
    """The run was stopped (Ctrl-C); finished rows are safe in the journal."""


class BatchRow(BaseModel):
    """One answer to grade, as read from the input file."""

    index: int
    """0-based position among the data rows; the output keeps this order."""
    line: int
    """Where the row is in the file as a user sees it (spreadsheet row or JSONL line)."""
    id: str
    question: str = ""
    answer: str = ""
    reference: str | None = None
    topic: str | None = None
    audio: str | None = None
    """A recording to transcribe into ``answer`` (only for rows without a written one)."""
    error: str | None = None
    """Why this row cannot be graded (empty answer, too long, ...); the rest go on."""


class BatchResult(BaseModel):
    """One output row: the grade flattened, or the reason there is none."""

    id: str
    question: str = ""
    topic: str = ""
    score: float | None = None
    confidence: float | None = None
    """0-1: how far to trust the score (coach/grading/confidence.py)."""
    evidence: float | None = None
    """The evidence score (0-10) before caps and the LLM."""
    llm_score: float | None = None
    """The LLM's own 0-10 score before the blend (empty with --no-llm)."""
    depth: float | None = None
    """Depth of on-question, specific content (0-10) whatever the reference says."""
    covered: list[str] = Field(default_factory=list)
    partial: list[str] = Field(default_factory=list)
    missed: list[str] = Field(default_factory=list)
    feedback: str = ""
    follow_up: str = ""
    reference_card_id: str = ""
    reference_title: str = ""
    reference_sources: list[str] = Field(default_factory=list)
    signals: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    status: RowStatus = "ok"
    error: str = ""
    points: list[PointResult] = Field(default_factory=list)
    """Per-point detail (evidence, similarity); JSONL output keeps it, CSV shows the
    covered / partial / missed labels instead."""


OUTPUT_COLUMNS: tuple[str, ...] = tuple(f for f in BatchResult.model_fields if f != "points")
"""The flat columns of the CSV output, in order."""


class BatchReport(BaseModel):
    """What a batch run did, for the CLI summary and for benchmarks."""

    input_path: Path
    output_path: Path
    report_path: Path
    journal_path: Path
    """Removed once the output is written; it only survives an interrupted run."""
    rows: int
    graded: int
    """Rows processed by this run (including rows that ended with status=error)."""
    skipped: int
    """Rows already in the journal of an earlier, interrupted run (``resume``)."""
    errors: int
    """Rows of the final output with status=error."""
    flag_counts: dict[str, int] = Field(default_factory=dict)
    mean_score: float | None = None
    use_llm: bool
    concurrency: int
    elapsed_seconds: float
    """The whole run: reading, grading, writing the output and the report."""
    grading_seconds: float
    """The concurrent grading phase alone."""
    answers_per_second: float
    """``graded / grading_seconds``."""
    llm_prompt_tokens: int | None = None
    llm_completion_tokens: int | None = None
    """Token counts from the model server's usage fields; None when no LLM call was made."""
    notes: list[str] = Field(default_factory=list)
