"""Kill a real batch process mid-way (SIGKILL: no cleanup runs), then resume: every row
ends up in the output exactly once and no finished row is graded again."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coach.batch.models import JournalError
from coach.batch.run import run_batch

from . import batch_fakes
from .batch_fakes import FakeGrader

ROWS = 16
KILL_AFTER = 5
WAIT_LIMIT_SECONDS = 120  # a guard against a hung child, not a speed assertion


def journal_ids(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")[1:-1]  # header first; the tail may be torn
    return [json.loads(line)["id"] for line in lines if line.strip()]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_resume_after_sigkill_grades_every_row_exactly_once(tmp_path: Path) -> None:
    source = tmp_path / "answers.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "question", "answer"])
        writer.writerows([f"q{i}", "如何防止过拟合？", f"答案 {i} Dropout"] for i in range(ROWS))
    output = tmp_path / "graded.csv"
    journal = tmp_path / "graded.csv.partial.jsonl"

    child = subprocess.Popen(
        [sys.executable, batch_fakes.__file__, str(source), str(output), "0.2"],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while len(journal_ids(journal)) < KILL_AFTER:
        if child.poll() is not None:
            pytest.fail(f"batch exited early: {child.stderr.read().decode()}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail("the batch wrote no journal lines in time")
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL

    first_run = journal_ids(journal)
    assert KILL_AFTER <= len(first_run) < ROWS
    assert len(set(first_run)) == len(first_run)
    assert not output.exists()  # the output is only ever written whole

    with pytest.raises(JournalError, match="--resume"):
        run_batch(source, output, grader=FakeGrader(), use_llm=False, progress=False)

    grader = FakeGrader()
    report = run_batch(source, output, grader=grader, use_llm=False, resume=True, progress=False)
    second_run = [answer.split()[1] for answer in grader.calls]
    second_ids = [f"q{n}" for n in second_run]

    assert set(first_run).isdisjoint(second_ids)  # nothing graded twice
    assert sorted(first_run + second_ids) == sorted(f"q{i}" for i in range(ROWS))  # nothing lost
    with output.open(encoding="utf-8-sig", newline="") as handle:
        out = list(csv.DictReader(handle))
    assert [r["id"] for r in out] == [f"q{i}" for i in range(ROWS)]  # once each, input order
    assert all(r["status"] == "ok" and r["score"] == "2.5" for r in out)
    assert (report.skipped, report.graded) == (len(first_run), ROWS - len(first_run))
    assert not journal.exists()
