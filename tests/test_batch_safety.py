"""Batch grading against a careless or hostile user (issue 14): broken quotes, files in
the way, file-system faults, two runs at once, XLSX in and out, odd encodings."""

from __future__ import annotations

import codecs
import errno
import os
import shutil
import subprocess
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from coach.batch.journal import Journal
from coach.batch.models import OUTPUT_COLUMNS, BatchBusy, BatchError, BatchInputError
from coach.batch.reader import read_batch
from coach.common import files as files_module
from coach.config import Settings
from coach.grading.models import Grade

from .batch_fakes import FakeGrader
from .test_batch import GOOD, PARTIAL, Q, read_output_csv, run, write_csv

HEADER = "id,question,answer\n"
BUSY_WAIT_SECONDS = 30  # a guard against a hung thread, not a speed assertion


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- 1. quotes that would merge rows ----------------------------------------------------


def test_unclosed_quote_fails_with_its_line_instead_of_swallowing_the_rest(
    tmp_path: Path,
) -> None:
    source = write_text(
        tmp_path / "in.csv",
        HEADER
        + f"r1,{Q},{GOOD}\n"
        + f'r2,{Q},"Dropout 和正则化\n'  # the quote is never closed
        + f"r3,{Q},{PARTIAL}\nr4,{Q},{GOOD}\nr5,{Q},{PARTIAL}\n",
    )
    grader = FakeGrader()
    with pytest.raises(BatchInputError) as caught:
        run(tmp_path, source, grader)
    message = str(caught.value)
    assert "in.csv" in message and "starts on line 3" in message and "never closed" in message
    assert grader.calls == [] and not (tmp_path / "out.csv").exists()


def test_unclosed_quote_closed_by_a_later_quote_names_both_lines(tmp_path: Path) -> None:
    source = write_text(
        tmp_path / "in.csv",
        HEADER + f'r1,{Q},"半句话\nr2,{Q},"{GOOD}"\nr3,{Q},{PARTIAL}\n',
    )
    with pytest.raises(BatchInputError) as caught:
        run(tmp_path, source)
    message = str(caught.value)
    assert "line 3" in message and "opened on line 2" in message and '""' in message


def test_quotes_that_pair_up_across_rows_are_caught_by_the_cell_count(tmp_path: Path) -> None:
    source = write_text(
        tmp_path / "in.csv",
        HEADER + f'r1,{Q},"半句话\nr2,{Q},{PARTIAL}",多出来的\nr3,{Q},{GOOD}\n',
    )
    with pytest.raises(BatchInputError) as caught:
        run(tmp_path, source)
    message = str(caught.value)
    assert "starts on line 2 runs on to line 3" in message and "4 cells" in message


def test_legitimate_multiline_quoted_answers_still_work(tmp_path: Path, settings: Settings) -> None:
    answer = '第一点, 正则化;\n第二点: "Dropout", 还有 ""早停""'
    source = write_csv(
        tmp_path / "in.csv",
        [["question", "answer", "extra"], [Q, answer, ""], [Q, PARTIAL, ""], [Q, GOOD, ""]],
    )
    rows = read_batch(source, settings)
    assert [r.answer for r in rows] == [answer, PARTIAL, GOOD]
    assert [r.id for r in rows] == ["row-2", "row-3", "row-4"]  # spreadsheet rows
    report, grader = run(tmp_path, source)
    assert report.rows == 3 and grader.calls == [answer, PARTIAL, GOOD]


# --- 2. files in the way ------------------------------------------------------------------


def test_existing_output_is_not_replaced_without_overwrite(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]])
    (tmp_path / "out.csv").write_text("the teacher's own work\n", "utf-8")
    grader = FakeGrader()
    with pytest.raises(BatchError) as caught:
        run(tmp_path, source, grader)
    assert "out.csv already exists" in str(caught.value) and "--overwrite" in str(caught.value)
    assert (tmp_path / "out.csv").read_text("utf-8") == "the teacher's own work\n"
    assert grader.calls == [] and not Settings().paths.batch_journal(tmp_path / "out.csv").exists()
    report, _ = run(tmp_path, source, overwrite=True)
    assert report.rows == 1 and read_output_csv(tmp_path / "out.csv")[0]["question"] == Q


def test_unrelated_report_beside_the_output_is_not_replaced(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]])
    report_path = tmp_path / "out.report.html"
    report_path.write_text("<p>last term's report</p>", "utf-8")
    with pytest.raises(BatchError, match=r"out\.report\.html already exists \(the HTML report"):
        run(tmp_path, source)
    assert report_path.read_text("utf-8") == "<p>last term's report</p>"
    assert not (tmp_path / "out.csv").exists()


def test_resume_replaces_the_files_of_its_own_interrupted_run(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report could not be written (disk full) after the output was: the journal is
    kept, and --resume finishes the job without --overwrite and without regrading."""
    source = write_csv(
        tmp_path / "in.csv", [["id", "question", "answer"], ["a", Q, GOOD], ["b", Q, PARTIAL]]
    )
    real = files_module.write_text_atomic

    def disk_full(path: Path, text: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr("coach.batch.run.write_text_atomic", disk_full)
    with pytest.raises(BatchError, match="--resume"):
        run(tmp_path, source)
    assert (tmp_path / "out.csv").exists() and settings.paths.batch_journal(tmp_path / "out.csv")
    monkeypatch.setattr("coach.batch.run.write_text_atomic", real)
    report, grader = run(tmp_path, source, resume=True)
    assert grader.calls == [] and report.skipped == 2
    assert settings.paths.batch_report(tmp_path / "out.csv").exists()


def test_resume_without_a_journal_still_refuses_an_existing_output(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]])
    (tmp_path / "out.csv").write_text("keep me\n", "utf-8")
    with pytest.raises(BatchError, match="--overwrite"):
        run(tmp_path, source, resume=True)
    assert (tmp_path / "out.csv").read_text("utf-8") == "keep me\n"


# --- 3. file-system faults ----------------------------------------------------------------


def test_output_that_is_a_folder_fails_before_grading(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]])
    (tmp_path / "out.csv").mkdir()
    grader = FakeGrader()
    with pytest.raises(BatchError, match=r"out\.csv is a folder, not a file name"):
        run(tmp_path, source, grader)
    assert grader.calls == []


def test_output_below_a_file_fails_before_grading(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]])
    (tmp_path / "results").write_text("a file, not a folder", "utf-8")
    grader = FakeGrader()
    with pytest.raises(BatchError, match=r"results is a file, not a folder"):
        run(tmp_path, source, grader, out="results/out.csv")
    assert grader.calls == []


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[Any]:
    """``chattr +i`` (read-only even for root); the test is skipped where it is missing."""
    marked: list[Path] = []
    probe = tmp_path / "chattr-probe"
    probe.touch()
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(probe)], check=False).returncode:
        pytest.skip("chattr +i is not available here")
    subprocess.run([chattr, "-i", str(probe)], check=True)

    def mark(path: Path) -> None:
        subprocess.run([chattr, "+i", str(path)], check=True)
        marked.append(path)

    def unmark(path: Path) -> None:
        subprocess.run([chattr, "-i", str(path)], check=True)
        marked.remove(path)

    mark.unmark = unmark  # type: ignore[attr-defined]
    yield mark
    for path in marked:
        subprocess.run([chattr, "-i", str(path)], check=False)


def test_unwritable_folder_fails_before_grading(tmp_path: Path, immutable: Any) -> None:
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]])
    folder = tmp_path / "locked"
    folder.mkdir()
    immutable(folder)
    grader = FakeGrader()
    with pytest.raises(BatchError, match=r"Cannot write to the folder .*locked"):
        run(tmp_path, source, grader, out="locked/out.csv")
    assert grader.calls == []


def test_immutable_output_is_not_replaced_even_with_overwrite(
    tmp_path: Path, immutable: Any
) -> None:
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]])
    (tmp_path / "out.csv").write_text("old\n", "utf-8")
    immutable(tmp_path / "out.csv")
    grader = FakeGrader()
    with pytest.raises(BatchError, match="cannot be replaced"):
        run(tmp_path, source, grader, overwrite=True)
    assert grader.calls == []


class LockingGrader(FakeGrader):
    """Makes the output folder immutable while grading the last row: the fault appears
    at the end of a batch, after the up-front checks passed."""

    def __init__(self, folder: Path, mark: Any, last: str):
        super().__init__()
        self.folder, self.mark, self.last = folder, mark, last

    async def agrade(self, question: str, answer: str, **kw: Any) -> Grade:
        if answer == self.last:
            self.mark(self.folder)
        return await super().agrade(question, answer, **kw)


def test_folder_turning_read_only_at_the_end_keeps_the_journal_for_resume(
    tmp_path: Path, settings: Settings, immutable: Any
) -> None:
    source = write_csv(
        tmp_path / "in.csv", [["id", "question", "answer"], ["a", Q, GOOD], ["b", Q, PARTIAL]]
    )
    folder = tmp_path / "graded"
    folder.mkdir()
    grader = LockingGrader(folder, immutable, last=PARTIAL)
    with pytest.raises(BatchError) as caught:
        run(tmp_path, source, grader, out="graded/out.csv", concurrency=1)
    message = str(caught.value)
    journal = settings.paths.batch_journal(folder / "out.csv")
    assert "Could not write" in message and str(journal) in message and "--resume" in message
    assert "All 2 graded rows" in message and journal.exists()
    immutable.unmark(folder)
    report, again = run(tmp_path, source, out="graded/out.csv", resume=True)
    assert again.calls == [] and report.skipped == 2
    assert [r["id"] for r in read_output_csv(folder / "out.csv")] == ["a", "b"]
    assert not journal.exists() and not settings.paths.batch_lock(folder / "out.csv").exists()


def test_disk_full_while_writing_the_output_says_how_to_resume(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_csv(tmp_path / "in.csv", [["id", "question", "answer"], ["a", Q, GOOD]])
    real_fsync = os.fsync

    def full_disk_for_the_output(fd: int) -> None:
        """The journal's lines still land; the output's temporary file does not."""
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".tmp"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to tell the output's file descriptor from the journal's")
    monkeypatch.setattr(os, "fsync", full_disk_for_the_output)
    with pytest.raises(BatchError) as caught:
        run(tmp_path, source)
    message = str(caught.value)
    assert "Could not write" in message and "No space left on device" in message
    assert (
        "--resume" in message and str(settings.paths.batch_journal(tmp_path / "out.csv")) in message
    )
    assert not (tmp_path / "out.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no half file
    monkeypatch.setattr(os, "fsync", real_fsync)
    report, grader = run(tmp_path, source, resume=True)
    assert grader.calls == [] and report.rows == 1


class FullDiskHandle:
    """A journal handle on a full disk: the write failed, and so does the final flush."""

    def __init__(self, handle: Any):
        self._handle = handle

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def close(self) -> None:
        self._handle.close()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_failing_journal_close_does_not_replace_the_resume_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        [["id", "question", "answer"]] + [[f"r{i}", Q, f"答案{i}"] for i in range(4)],
    )
    real_append = Journal.append

    def append(self: Journal, result: Any) -> None:
        if len(self.done) == 2:
            self._handle = FullDiskHandle(self._handle)  # type: ignore[assignment]
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_append(self, result)

    monkeypatch.setattr(Journal, "append", append)
    with pytest.raises(BatchError) as caught:
        run(tmp_path, source, concurrency=1)
    message = str(caught.value)
    assert "Cannot write the journal" in message and "No space left on device" in message
    assert "The 2 rows finished so far are kept" in message and "--resume" in message
    monkeypatch.setattr(Journal, "append", real_append)
    report, grader = run(tmp_path, source, resume=True)
    assert grader.calls == ["答案2", "答案3"] and report.skipped == 2


# --- 4. two runs, one output --------------------------------------------------------------


def test_a_second_run_on_the_same_output_is_told_another_run_is_writing_it(
    tmp_path: Path, settings: Settings
) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        [["id", "question", "answer"]] + [[f"r{i}", Q, GOOD] for i in range(6)],
    )
    output = tmp_path / "out.csv"
    first_done: list[Any] = []
    first = threading.Thread(
        target=lambda: first_done.append(run(tmp_path, source, FakeGrader(delay=0.3))[0]),
        daemon=True,
    )
    first.start()
    journal = settings.paths.batch_journal(output)
    deadline = time.monotonic() + BUSY_WAIT_SECONDS
    while not (journal.exists() and b"\n" in journal.read_bytes()):
        assert time.monotonic() < deadline, "the first run never started"
        time.sleep(0.02)
    second = FakeGrader()
    with pytest.raises(BatchBusy) as caught:
        run(tmp_path, source, second, resume=True)
    message = str(caught.value)
    assert f"Another coach run (PID {os.getpid()}) is writing {output}" in message
    assert "interrupted" not in message and second.calls == []
    first.join(BUSY_WAIT_SECONDS)
    assert first_done and first_done[0].rows == 6  # the first run was not disturbed
    assert len(read_output_csv(output)) == 6
    assert not settings.paths.batch_lock(output).exists()


# --- 5. XLSX output -----------------------------------------------------------------------


def test_xlsx_output_is_a_real_workbook_with_text_cells(tmp_path: Path) -> None:
    evil = '=HYPERLINK("http://x.invalid","click")'
    source = write_csv(
        tmp_path / "in.csv",
        [["id", "question", "answer"], ["a", evil, GOOD], ["b", Q + "\x07", PARTIAL]],
    )
    report, _ = run(tmp_path, source, out="out.xlsx")
    assert report.output_path == tmp_path / "out.xlsx"
    sheet = load_workbook(tmp_path / "out.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(OUTPUT_COLUMNS)
    data = [dict(zip(OUTPUT_COLUMNS, r, strict=True)) for r in rows[1:]]
    assert [(d["id"], d["score"]) for d in data] == [("a", 10.0), ("b", 2.5)]
    assert data[0]["question"] == evil and sheet["B2"].data_type == "s"  # text, not a formula
    assert data[1]["question"] == Q  # the control character Excel cannot hold is dropped
    assert data[0]["covered"] == "正则化; Dropout; 数据增强; 早停"


# --- 6. XLSX formulas and odd encodings ---------------------------------------------------


def test_xlsx_formula_without_a_saved_value_is_named_not_called_empty(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["id", "question", "answer", "reference"])
    sheet.append(["a", Q, GOOD, None])
    sheet.append(["b", Q, '=CONCAT("Drop","out")', None])
    sheet.append(["c", Q, PARTIAL, "=A2"])
    sheet.append(["d", Q, None, None])
    book.save(tmp_path / "in.xlsx")  # openpyxl saves no computed results, as scripts do
    report, grader = run(tmp_path, tmp_path / "in.xlsx")
    out = {r["id"]: r for r in read_output_csv(tmp_path / "out.csv")}
    assert "answer cell C3 holds a formula" in out["b"]["error"]
    assert 'CONCAT("Drop","out")' in out["b"]["error"] and "empty" not in out["b"]["error"]
    assert "reference cell D4 holds a formula" in out["c"]["error"]
    assert out["d"]["error"] == "empty answer"
    assert grader.calls == [GOOD] and report.errors == 3


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_read(tmp_path: Path, settings: Settings, encoding: str) -> None:
    text = f"id,question,answer\r\na1,{Q},{GOOD}\r\na2,一个问题,{PARTIAL}\r\n"
    data = text.encode(encoding)
    assert not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    source = tmp_path / "in.csv"
    source.write_bytes(data)
    rows = read_batch(source, settings)
    assert [(r.id, r.question, r.answer) for r in rows] == [
        ("a1", Q, GOOD),
        ("a2", "一个问题", PARTIAL),
    ]


def test_a_workbook_saved_as_csv_is_named(tmp_path: Path, settings: Settings) -> None:
    source = tmp_path / "answers.csv"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>\x00")
    with pytest.raises(BatchInputError, match=r"binary file \(a ZIP archive.*name it \.xlsx"):
        read_batch(source, settings)


def test_binary_junk_is_still_refused(tmp_path: Path, settings: Settings) -> None:
    source = tmp_path / "junk.csv"
    source.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(BatchInputError, match="binary file"):
        read_batch(source, settings)


def test_csv_with_more_cells_than_the_header_on_one_line_is_refused(
    tmp_path: Path, settings: Settings
) -> None:
    """A stray extra cell is an unquoted comma that cut the answer (issue 29): refused
    with its line; trailing empty cells stay harmless."""
    source = write_text(tmp_path / "in.csv", f"question,answer\n{Q},{GOOD},note\n{Q},{GOOD},,\n")
    with pytest.raises(BatchInputError, match=r"line 2 has 3\)"):
        read_batch(source, settings)


def test_text_glued_to_a_closing_quote_is_refused(tmp_path: Path, settings: Settings) -> None:
    """A quote glued to text after it is refused (the lenient parser dropped the quote)."""
    source = write_text(tmp_path / "in.csv", f'question,answer\n{Q},"Dropout"x\n')
    with pytest.raises(BatchInputError, match=r"line 2: text follows a closing quote"):
        read_batch(source, settings)
