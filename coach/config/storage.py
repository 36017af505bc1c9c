"""Where coach keeps its data and finds its inputs; ``coach.config.paths`` resolves them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import Field

from coach.config.section import PathList, Section


def _default_data_dir() -> Path:
    """User data lives outside the checkout, like simonw/llm's LLM_USER_PATH."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "coach"


class StorageSettings(Section):
    """Where coach keeps its data and finds its inputs (the paths object resolves them)."""

    env_prefix: ClassVar[str] = "COACH_"

    data_dir: Path = Field(default_factory=_default_data_dir)
    corpus_paths: Annotated[list[Path], PathList] = Field(default_factory=lambda: [Path("corpus")])
    models_dir: Path | None = Field(default=None)
    """Model packs are large and shared between data directories (tests use this)."""
    vllm_venv: Path | None = Field(default=None)
    """vLLM lives in its own venv (its pins clash with the app's); default
    ``$COACH_DATA_DIR/vllm-venv``."""
    history_db_name: str = "history.sqlite3"
    history_busy_timeout: float = Field(default=5.0, ge=0)
    """Seconds a history write waits while another program holds the database (SQLite
    retries in that time); after it the write goes to the pending file below, so the
    answer is never lost and the candidate is not kept waiting."""
    history_pending_suffix: str = ".pending.jsonl"
    """Beside the history file (history.sqlite3.pending.jsonl): writes made while the
    database was busy, replayed into it at the next start or write."""
    min_free_bytes: int = Field(default=20_000_000, ge=0)
    """Below this much free space in the data folder, commands that write there (search,
    grade, the UI) stop at start with one message instead of failing half-way."""
    anchors_file_name: str = "anchors.jsonl"
    """Anchor answers per card (full / partial / wrong), beside the index: written by
    `coach anchors generate`, read by the grader and the question-bank tab."""
    prepared_file_name: str = "interviewer.jsonl"
    """The prepared interviewer per card (phrasings of the question, probing follow-ups per
    key point), beside the index: written by `coach interviewer prepare`, read by the
    interview and the question-bank tab."""
    generated_cards_file_name: str = "generated_cards.jsonl"
    """Cards the LLM wrote from article sections (`coach generate-cards`), beside the
    index: one line per section, appended as each reply arrives, so a run resumes."""
    eval_dir: Path = Path("eval")
    """The evaluation sets (retrieval.jsonl, grading.jsonl, mohler/), relative to the
    working directory like the corpus."""
    reports_dir: Path = Path("reports")
    """Where ``coach eval`` writes its Markdown reports and plots (one folder per run)."""
    mohler_source_dir: Path = Path("../shared/datasets/mohler2011")
    """The Mohler 2011 dataset as shipped (mohler2011_unt_cs.jsonl + SOURCE/LICENSE);
    only ``coach eval convert-mohler`` reads it, the converted copy lives in eval/mohler/."""
    batch_journal_suffix: str = ".partial.jsonl"
    """Appended to the output file name for the resume journal (results.csv.partial.jsonl)."""
    batch_report_suffix: str = ".report.html"
    """Replaces the output file's extension for the HTML report (results.report.html)."""
