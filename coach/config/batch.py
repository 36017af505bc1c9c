"""Batch grading of answer files."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from coach.config.section import CommaStrings, Section


class BatchSettings(Section):
    """Batch grading of answer files (coach/batch)."""

    env_prefix: ClassVar[str] = "COACH_BATCH_"

    prefetch_rows: int = Field(default=64, ge=1)
    """Rows whose answers are encoded together before they are graded (no-LLM speed);
    memory grows with it (token vectors of every answer in the chunk)."""
    concurrency: int = Field(default=4, ge=1, le=256)
    """Answers graded at once; CPU vLLM peaks around 8 concurrent requests, a GPU server
    takes far more (raise it there)."""
    max_input_bytes: int = 200_000_000
    """A batch file larger than this is refused before anything is read into memory."""
    max_answer_chars: int = 8_000
    """An answer longer than this gets a per-row error instead of a grade (a prompt that
    size would blow the model's context and the rubric's time budget)."""
    max_question_chars: int = 2_000
    preferred_encodings: CommaStrings = Field(default_factory=lambda: ["gb18030", "big5"])
    """A non-UTF-8 CSV is decoded with the encoding charset_normalizer finds; when several
    fit equally well (short GBK text also decodes as Korean cp949), these win."""
    report_text_chars: int = 400
    """Answers and feedback longer than this are cut in the HTML report's row table."""
    max_rows: int = Field(default=100_000, ge=1)
    """Rows of a worksheet read at most (counted as the sheet numbers them). A workbook
    is read as a stream, so a sheet that declares a million rows costs nothing until
    they are read; a non-blank row past this refuses the file (split it)."""
    max_columns: int = Field(default=64, ge=1, le=16_384)
    """Columns of a worksheet read at most. One stray cell at column XFD used to make
    every row 16,384 cells wide (4 GB for 20,000 rows); cells past this are not read and
    the report says so. The header must lie within these columns."""
    max_reference_chars: int = Field(default=20_000, ge=1)
    """A ``reference`` cell longer than this gets a per-row error: every reference is
    encoded and matched token by token, so its size is the row's grading time."""
    max_references: int = Field(default=10, ge=1)
    """Reference answers (parts between ``---`` lines) one cell may hold; 500 separators
    made 2,004 key points and five times the time, for no better grade."""
    llm_give_up_after: int = Field(default=3, ge=1)
    """Rows in a row whose model call timed out or failed (flag ``llm_unavailable``)
    after which a batch stops asking the model server: the rest of its rows get the
    evidence grade at once, flagged ``llm_unavailable``, and the report says why. A
    server that keeps stalling would otherwise cost every row the full
    ``COACH_LLM_TIMEOUT`` (1,000 rows x 120 s / 4 workers is over eight hours); three
    failures in a row, with no verdict between them, are rarely chance."""
