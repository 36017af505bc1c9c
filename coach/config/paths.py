"""Every file location coach reads or writes, worked out in one place.

The settings say where the roots are (``COACH_DATA_DIR``, ``COACH_MODELS_DIR``, ...);
this object says where each file lies below them, so that no module joins path pieces of
its own and a newcomer finds every location here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from coach.config.storage import StorageSettings

VLLM_STATE_FILE = "server.json"
VLLM_LOG_FILE = "server.log"
BATCH_LOCK_SUFFIX = ".lock"


@dataclass(frozen=True)
class Paths:
    storage: StorageSettings
    vllm_device: str
    """``settings.vllm.device``: the GPU build of vLLM lives in a venv of its own."""

    # --- inputs --------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.storage.data_dir

    @property
    def corpus_paths(self) -> list[Path]:
        return list(self.storage.corpus_paths)

    @property
    def eval_dir(self) -> Path:
        """The evaluation sets, relative to the working directory like the corpus."""
        return self.storage.eval_dir

    @property
    def mohler_source_dir(self) -> Path:
        return self.storage.mohler_source_dir

    # --- models --------------------------------------------------------------------------
    @property
    def models_dir(self) -> Path:
        return self.storage.models_dir or self.data_dir / "models"

    @property
    def vllm_venv(self) -> Path:
        """The CPU build's venv, or the GPU build's (``-cuda``) when vLLM runs on a GPU."""
        if self.storage.vllm_venv:
            return self.storage.vllm_venv
        from coach.hardware import resolve_device

        suffix = "-cuda" if resolve_device(self.vllm_device) == "cuda" else ""
        return self.data_dir / f"vllm-venv{suffix}"

    @property
    def vllm_state_dir(self) -> Path:
        """Server log and pid file of ``coach serve-model``."""
        return self.data_dir / "vllm"

    @property
    def vllm_state_file(self) -> Path:
        return self.vllm_state_dir / VLLM_STATE_FILE

    @property
    def vllm_log(self) -> Path:
        return self.vllm_state_dir / VLLM_LOG_FILE

    # --- the index -----------------------------------------------------------------------
    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def chroma_dir(self) -> Path:
        return self.index_dir / "chroma"

    @property
    def catalog_file(self) -> Path:
        """Which source files the index holds, with their hashes (re-ingest skips them)."""
        return self.index_dir / "catalog.json"

    @property
    def corpus_file(self) -> Path:
        """The parsed cards and articles, as the grader and the UI read them."""
        return self.index_dir / "corpus.json"

    @property
    def bm25_dir(self) -> Path:
        return self.index_dir / "bm25"

    @property
    def anchors_file(self) -> Path:
        return self.index_dir / self.storage.anchors_file_name

    @property
    def prepared_file(self) -> Path:
        return self.index_dir / self.storage.prepared_file_name

    @property
    def generated_cards_file(self) -> Path:
        return self.index_dir / self.storage.generated_cards_file_name

    # --- what people produce -------------------------------------------------------------
    @property
    def history_db(self) -> Path:
        """The SQLite file of interview history (coach/store)."""
        return self.data_dir / self.storage.history_db_name

    @property
    def interview_reports_dir(self) -> Path:
        """Interview reports the UI writes for download (Markdown + HTML)."""
        return self.data_dir / "reports"

    @property
    def speech_cache_dir(self) -> Path:
        """Questions read aloud (WAV, named by a hash of engine, language and text)."""
        return self.data_dir / "speech"

    @property
    def batch_work_root(self) -> Path:
        """Uploads and results of the UI's batch tab, one folder per run."""
        return self.data_dir / "batch"

    def new_batch_work_dir(self) -> Path:
        return self.batch_work_root / uuid.uuid4().hex[:12]

    @property
    def eval_reports_dir(self) -> Path:
        """Where ``coach eval`` writes its Markdown reports and plots (one folder per run;
        relative to the working directory, beside ``eval/``)."""
        return self.storage.reports_dir

    def batch_journal(self, output: Path) -> Path:
        """The resume journal beside a batch's output (``results.csv.partial.jsonl``)."""
        return output.with_name(output.name + self.storage.batch_journal_suffix)

    def batch_report(self, output: Path) -> Path:
        """The HTML report beside a batch's output (``results.report.html``)."""
        return output.with_suffix(self.storage.batch_report_suffix)

    def batch_lock(self, output: Path) -> Path:
        """Held while a batch writes ``output``, so two runs never write one file."""
        journal = self.batch_journal(output)
        return journal.with_name(journal.name + BATCH_LOCK_SUFFIX)
