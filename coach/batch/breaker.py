"""When a batch stops asking the model server: a circuit breaker over the rows' outcomes.

Why: each row's wait for the model is bounded (``COACH_LLM_TIMEOUT``), but a server that
accepts requests and then stalls makes every row pay that bound in full; 1,000 rows at
120 s over 4 workers is more than eight hours for grades the rubric gives in seconds.
After ``COACH_BATCH_LLM_GIVE_UP_AFTER`` rows in a row whose model call timed out or
failed, the rest of the batch is graded without asking it: the evidence grade, flagged
``llm_unavailable`` as when the server is down, and one note in the progress output and
the report says so.

What counts: a row flagged ``llm_unavailable`` (the server failed or gave no verdict in
time) adds one; a row the model gave its verdict on (signal ``llm``) starts the count
again; a row the model was never asked about (an error row, an empty answer) changes
nothing. ``llm_invalid_output`` does not count: the server answered, quickly, and one bad
output says little about the next. Rows already in flight when the breaker trips keep
their own bound (at most one more ``COACH_LLM_TIMEOUT``): cancelling them would lose the
rubric's grade they are about to return.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from coach.batch.models import BatchResult, BatchRow
from coach.grading.flags import GradeFlag

NOT_ASKED = 0.0
"""The ``llm_timeout`` a row gets once the breaker has tripped: no time for the model's
verdict, so the grader does not ask it (``grading.models.AsyncGrader``)."""


@dataclass
class LlmBreaker:
    """Shared by a batch's workers (one event loop, so no lock is needed)."""

    give_up_after: int
    """``COACH_BATCH_LLM_GIVE_UP_AFTER``."""
    timeout: float | None
    """Each row's bound on the model's verdict while the breaker is closed."""
    announce: Callable[[str], None] | None = None
    """Told once, when the first row goes without the model (the progress output);
    None without progress output (the report's note says it all the same)."""
    failed_in_a_row: int = 0
    unavailable: int = 0
    """Rows whose model call, asked with time, timed out or failed."""
    not_asked: int = 0
    """Rows graded without asking the model because the breaker had tripped."""
    tripped: bool = False
    _said: bool = field(default=False, repr=False)

    def row_timeout(self, row: BatchRow) -> float | None:
        """The ``llm_timeout`` to grade ``row`` with; counts the rows the model is not
        asked about, and announces the first."""
        if not self.tripped:
            return self.timeout
        if not row.error:
            self.not_asked += 1
            if not self._said and self.announce is not None:
                self._said = True
                self.announce(self.give_up_message())
        return NOT_ASKED

    def record(self, result: BatchResult, *, timeout: float | None) -> None:
        """Count one finished row, graded with ``timeout`` (``row_timeout``'s answer)."""
        if timeout == NOT_ASKED:
            return
        if GradeFlag.LLM_UNAVAILABLE in result.flags:
            self.unavailable += 1
            self.failed_in_a_row += 1
        elif "llm" in result.signals:
            self.failed_in_a_row = 0
        if self.failed_in_a_row >= self.give_up_after:
            self.tripped = True

    def give_up_message(self) -> str:
        bound = f" within {self.timeout:g} s" if self.timeout is not None else ""
        return (
            f"The model server failed or gave no verdict{bound} for {self.give_up_after} "
            "rows in a row, so the rest of the batch is graded by the rubric alone, without "
            "waiting for it (flag llm_unavailable; COACH_BATCH_LLM_GIVE_UP_AFTER)."
        )

    def report_note(self) -> str | None:
        """The report's note when rows went without the model; None when none did."""
        if not self.not_asked:
            return None
        return (
            f"{self.give_up_message()} {self.not_asked} rows were graded that way; for the "
            "model's verdict on them, check the server (coach serve-model) and grade the "
            "file again with --overwrite."
        )
