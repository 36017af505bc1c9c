"""Issue 29's batch faults, each as it was found: hostile or careless input must not be
graded wrongly in silence, lose a file, leak a server file, or run without bound."""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from coach.batch.models import BatchError, BatchInputError, JournalError
from coach.batch.reader import read_batch
from coach.batch.run import arun_batch, run_batch
from coach.config import Settings
from coach.grading.flags import GradeFlag
from coach.grading.models import Grade

from .batch_fakes import FakeGrader, keyword_grade
from .conftest import make_index_read_only
from .test_batch import GOOD, PARTIAL, Q, read_output_csv, run, write_csv
from .test_batch_spoken import VOICE, FakeTranscriber


@pytest.fixture
def transcriber(monkeypatch: pytest.MonkeyPatch) -> type[FakeTranscriber]:
    from coach.batch import spoken

    FakeTranscriber.available = True
    FakeTranscriber.heard = []
    monkeypatch.setattr(spoken, "Transcriber", FakeTranscriber)
    return FakeTranscriber


def with_batch(settings: Settings, **values: Any) -> Settings:
    return settings.model_copy(update={"batch": settings.batch.model_copy(update=values)})


# --- silent wrong rows ---------------------------------------------------------------------


def test_an_answer_with_unquoted_commas_is_refused_with_its_line(
    tmp_path: Path, settings: Settings
) -> None:
    """The probe: cut at the first comma and graded 0.21 instead of 3.93, exit 0."""
    source = tmp_path / "in.csv"
    source.write_text(
        f"id,question,answer\n1,{Q},{GOOD}\n2,{Q},可以用正则化, Dropout, 数据增强和早停\n3,{Q}\n",
        "utf-8",
    )
    grader = FakeGrader()
    with pytest.raises(BatchInputError, match=r"line 3 has 5, line 4 has 2\)") as caught:
        run(tmp_path, source, grader)
    assert "double quotes" in str(caught.value)
    assert grader.calls == []


def _two_sheet_workbook(path: Path, *, active: int) -> Path:
    book = Workbook()
    first = book.active
    first.title = "draft"
    first.append(["question", "answer"])
    first.append([Q, PARTIAL])
    second = book.create_sheet("final")
    second.append(["question", "answer"])
    second.append([Q, GOOD])
    second.append([Q, GOOD + " 还有权重衰减"])
    book.active = active
    book.save(path)
    return path


def test_the_active_sheet_is_graded_and_the_report_says_which(
    tmp_path: Path, settings: Settings
) -> None:
    """The probe: a workbook whose active sheet was the second was graded from the
    first, with no note."""
    source = _two_sheet_workbook(tmp_path / "in.xlsx", active=1)
    notes: list[str] = []
    rows = read_batch(source, settings, notes=notes)
    assert [r.answer for r in rows] == [GOOD, GOOD + " 还有权重衰减"]
    assert "graded 'final', the active sheet" in notes[0] and "--sheet" in notes[0]
    report, _ = run(tmp_path, source)
    assert any("'final'" in n for n in report.notes)
    assert "graded &#x27;final&#x27;" in report.report_path.read_text("utf-8") or "final" in (
        report.report_path.read_text("utf-8")
    )
    assert [r.answer for r in read_batch(source, settings, sheet="draft")] == [PARTIAL]
    with pytest.raises(BatchInputError, match=r"no sheet named 'nope'.*\['draft', 'final'\]"):
        read_batch(source, settings, sheet="nope")


def test_merged_question_cells_are_read_on_every_row_they_cover(
    tmp_path: Path, settings: Settings
) -> None:
    """The probe: rows under a merged question got "empty question"."""
    book = Workbook()
    sheet = book.active
    sheet.append(["question", "answer"])
    sheet.append([Q, GOOD])
    sheet.append([None, PARTIAL])
    sheet.append([None, "早停"])
    sheet.merge_cells("A2:A4")
    book.save(tmp_path / "in.xlsx")
    notes: list[str] = []
    rows = read_batch(tmp_path / "in.xlsx", settings, notes=notes)
    assert [(r.question, r.error) for r in rows] == [(Q, None)] * 3
    assert any("A2:A4" in n and "top-left" in n for n in notes)


def test_cells_merged_across_question_and_answer_are_refused_with_their_range(
    tmp_path: Path, settings: Settings
) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["question", "answer"])
    sheet.append([f"{Q} {GOOD}", None])
    sheet.merge_cells("A2:B2")
    book.save(tmp_path / "in.xlsx")
    with pytest.raises(BatchInputError, match=r"A2:B2 are merged across the columns question"):
        read_batch(tmp_path / "in.xlsx", settings)


def test_duplicate_jsonl_keys_differing_in_case_are_that_rows_error(
    tmp_path: Path, settings: Settings
) -> None:
    """The probe: a row with both answer and Answer kept the last one without a word."""
    source = tmp_path / "in.jsonl"
    lines = [
        {"id": "1", "question": Q, "answer": GOOD},
        {"id": "2", "question": Q, "answer": GOOD, "Answer": PARTIAL},
        {"id": "3", "question": Q, "answer": PARTIAL, "ANSWER": PARTIAL},
    ]
    source.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), "utf-8")
    rows = read_batch(source, settings)
    assert rows[0].error is None and rows[2].error is None, "the same value twice is harmless"
    assert "'answer' and 'Answer' both name the column 'answer'" in (rows[1].error or "")


# --- data loss from names ------------------------------------------------------------------


def test_an_input_named_like_the_runs_journal_is_refused_and_left_whole(
    tmp_path: Path,
) -> None:
    """The probe: out.csv.partial.jsonl as input with --output out.csv --resume was
    truncated, then refused; with one line it was deleted."""
    for body in (
        f'{{"question": "{Q}", "answer": "{GOOD}"}}\n{{"question": "{Q}", "answer": "x"}}',
        f'{{"question": "{Q}", "answer": "{GOOD}"}}',
    ):
        source = tmp_path / "out.csv.partial.jsonl"
        source.write_text(body, "utf-8")
        grader = FakeGrader()
        with pytest.raises(BatchError, match="is the resume journal of this run"):
            run(tmp_path, source, grader, out="out.csv", resume=True)
        assert source.read_text("utf-8") == body and grader.calls == []


@pytest.mark.parametrize("name", ["out.report.html", "out.csv.partial.jsonl.lock"])
def test_an_input_that_is_the_report_or_the_lock_is_refused(tmp_path: Path, name: str) -> None:
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]])
    (tmp_path / name).symlink_to(source)
    with pytest.raises(BatchError, match="of this run"):
        run(tmp_path, tmp_path / name, overwrite=True)
    assert source.read_text("utf-8").startswith("question")


def test_a_journal_that_links_to_another_file_is_refused_and_the_file_kept(
    tmp_path: Path,
) -> None:
    """The probe: a journal symlinked to another file had that file's last line cut."""
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]])
    precious = tmp_path / "notes.txt"
    precious.write_text("line one\nline two without newline", "utf-8")
    (tmp_path / "out.csv.partial.jsonl").symlink_to(precious)
    with pytest.raises(BatchError, match="symbolic link"):
        run(tmp_path, source, resume=True)
    assert precious.read_text("utf-8") == "line one\nline two without newline"


@pytest.mark.parametrize("name", ["out.csv", "out.csv.partial.jsonl.lock", "out.report.html"])
def test_an_output_or_lock_that_is_a_link_is_refused(tmp_path: Path, name: str) -> None:
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]])
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me", "utf-8")
    (tmp_path / name).symlink_to(precious)
    with pytest.raises(BatchError, match="symbolic link"):
        run(tmp_path, source, overwrite=True)
    assert precious.read_text("utf-8") == "keep me"


def test_a_journal_made_a_link_after_the_checks_is_not_written_through(
    tmp_path: Path,
) -> None:
    from coach.batch.journal import Journal, JournalHeader

    precious = tmp_path / "precious.txt"
    precious.write_text("keep me", "utf-8")
    link = tmp_path / "j.partial.jsonl"
    link.symlink_to(precious)
    header = JournalHeader(input="in.csv", input_sha256="0" * 64, use_llm=False)
    with pytest.raises(JournalError, match="symbolic link"):
        Journal.open(link, header, resume=True)
    assert precious.read_text("utf-8") == "keep me"


# --- unbounded work ------------------------------------------------------------------------


def _wide_workbook(path: Path, rows: int) -> Path:
    """The probe's file: many rows and one cell at column XFD."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("answers")
    sheet.append(["id", "question", "answer"])
    for i in range(rows):
        sheet.append([f"r{i}", Q, GOOD if i % 2 else PARTIAL])
    sheet.append([None] * 16383 + ["stray"])
    book.save(path)
    return path


def test_a_cell_at_column_xfd_does_not_make_every_row_16384_cells_wide(
    tmp_path: Path, settings: Settings
) -> None:
    """The probe: 20,000 rows and one cell at XFD took over 4 GB and 150 s."""
    source = _wide_workbook(tmp_path / "wide.xlsx", 2_000)
    notes: list[str] = []
    tracemalloc.start()
    started = time.perf_counter()
    rows = read_batch(source, settings, notes=notes)
    seconds = time.perf_counter() - started
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(rows) == 2_000
    assert peak < 60_000_000, f"peak {peak / 1e6:.0f} MB"
    assert seconds < 20
    assert any("column XFD" in n and "COACH_BATCH_MAX_COLUMNS" in n for n in notes)


def test_a_sheet_past_the_row_cap_is_refused(tmp_path: Path, settings: Settings) -> None:
    source = _wide_workbook(tmp_path / "wide.xlsx", 30)
    with pytest.raises(BatchInputError, match=r"rows past row 20 \(COACH_BATCH_MAX_ROWS\)"):
        read_batch(source, with_batch(settings, max_rows=20))


def test_a_reference_cell_with_500_separators_is_that_rows_error(
    tmp_path: Path, settings: Settings
) -> None:
    """The probe: 500 --- separators in a 64 KB cell made 2,004 key points, 5x the time."""
    many = "\n---\n".join(f"参考答案 {i}：正则化、Dropout、早停。" for i in range(501))
    huge = "正则化 " * 6_000
    source = write_csv(
        tmp_path / "in.csv",
        [
            ["id", "question", "answer", "reference"],
            ["1", Q, GOOD, many],
            ["2", Q, GOOD, huge],
            ["3", Q, GOOD, "正则化\n---\nDropout"],
        ],
    )
    grader = FakeGrader()
    run(tmp_path, source, grader)
    rows = {r["id"]: r for r in read_output_csv(tmp_path / "out.csv")}
    assert "501 reference answers" in rows["1"]["error"]
    assert "COACH_BATCH_MAX_REFERENCE_CHARS" in rows["2"]["error"]
    assert rows["3"]["status"] == "ok"
    assert grader.calls == [GOOD], "only the bounded row reached the grader"


# --- a slow model server -------------------------------------------------------------------


class StallingGrader(FakeGrader):
    """A model server that accepts the request and then trickles: the verdict never
    comes, so only the grader's own ``llm_timeout`` ends the wait (as coach's does)."""

    async def agrade(self, question: str, answer: str, **kw: Any) -> Grade:
        timeout = kw.get("llm_timeout")
        rubric = keyword_grade(question, answer, kw.get("reference"))
        try:
            async with asyncio.timeout(timeout):
                await asyncio.sleep(3600)
        except TimeoutError:
            rubric.flags.append(GradeFlag.LLM_UNAVAILABLE)
        return rubric


def test_a_stalled_model_server_is_bounded_per_row_with_the_evidence_grade(
    tmp_path: Path, settings: Settings
) -> None:
    """The probe: a server sending one byte every 2 s left 0 of 3 rows done after 240 s."""
    settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"timeout": 0.3})})
    source = write_csv(
        tmp_path / "in.csv", [["question", "answer"], [Q, GOOD], [Q, PARTIAL], [Q, "早停"]]
    )

    async def bounded() -> Any:
        return await asyncio.wait_for(
            arun_batch(
                source,
                tmp_path / "out.csv",
                settings=settings,
                grader=StallingGrader(),
                use_llm=True,
                progress=False,
            ),
            timeout=20,
        )

    report = asyncio.run(bounded())
    rows = read_output_csv(tmp_path / "out.csv")
    assert [r["status"] for r in rows] == ["ok"] * 3
    assert all("llm_unavailable" in r["flags"] for r in rows)
    assert any("3 rows were graded by the rubric alone" in n for n in report.notes)


class ScriptedServerGrader(FakeGrader):
    """A model server scripted per call: ``stall`` (the verdict never comes, only the
    row's ``llm_timeout`` ends the wait), ``fail`` (refused at once) or ``ok`` (a
    verdict, signal ``llm``); the last entry repeats. Honours the contract as coach's
    Grader does: ``llm_timeout=0`` sends no request. Records each row's bound and wait."""

    def __init__(self, script: list[str]):
        super().__init__()
        self.script = script
        self.timeouts: list[float | None] = []
        self.waited: list[float] = []
        self.requests = 0

    async def agrade(
        self,
        question: str,
        answer: str,
        *,
        reference: str | None = None,
        card_id: str | None = None,
        llm_timeout: float | None = None,
    ) -> Grade:
        grade = keyword_grade(question, answer, reference)
        self.timeouts.append(llm_timeout)
        started = time.perf_counter()
        if llm_timeout == 0:
            grade.flags.append(GradeFlag.LLM_UNAVAILABLE)
        else:
            outcome = self.script[min(self.requests, len(self.script) - 1)]
            self.requests += 1
            await asyncio.sleep(0)  # let the other workers run, as a real request does
            if outcome == "stall":
                try:
                    async with asyncio.timeout(llm_timeout):
                        await asyncio.sleep(3600)
                except TimeoutError:
                    grade.flags.append(GradeFlag.LLM_UNAVAILABLE)
            elif outcome == "fail":
                grade.flags.append(GradeFlag.LLM_UNAVAILABLE)
            else:
                grade.signals.append("llm")
        self.waited.append(time.perf_counter() - started)
        return grade


def _rows(n: int) -> list[list[str]]:
    return [["id", "question", "answer"], *([str(i), Q, GOOD] for i in range(n))]


def test_a_model_server_that_keeps_stalling_is_given_up_on_and_the_rest_do_not_wait(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """1,000 rows x 120 s / 4 workers is hours; after COACH_BATCH_LLM_GIVE_UP_AFTER rows
    in a row without a verdict, the rest get the evidence grade at once."""
    timeout, give_up, total = 0.3, 3, 12
    settings = with_batch(settings, llm_give_up_after=give_up).model_copy(
        update={"llm": settings.llm.model_copy(update={"timeout": timeout})}
    )
    source = write_csv(tmp_path / "in.csv", _rows(total))
    grader = ScriptedServerGrader(["stall"])
    started = time.perf_counter()
    report = run_batch(
        source, tmp_path / "out.csv", settings=settings, grader=grader, concurrency=1
    )
    elapsed = time.perf_counter() - started

    assert grader.timeouts == [timeout] * give_up + [0.0] * (total - give_up)
    assert grader.requests == give_up, "no request after the breaker tripped"
    assert max(grader.waited[give_up:]) < timeout / 10, "the rest do not wait"
    assert elapsed < timeout * total, "less than every row waiting its full bound"
    rows = read_output_csv(tmp_path / "out.csv")
    assert [r["status"] for r in rows] == ["ok"] * total
    assert all("llm_unavailable" in r["flags"] for r in rows)
    assert all(float(r["score"]) > 0 for r in rows), "the evidence grade, not an error"
    [gave_up] = [n for n in report.notes if "COACH_BATCH_LLM_GIVE_UP_AFTER" in n]
    assert f"for {give_up} rows in a row" in gave_up
    assert f"{total - give_up} rows were graded that way" in gave_up
    assert any(f"{give_up} rows were graded by the rubric alone" in n for n in report.notes)
    shown = capsys.readouterr()
    assert (shown.out + shown.err).count("COACH_BATCH_LLM_GIVE_UP_AFTER") == 1, "said once"
    assert "COACH_BATCH_LLM_GIVE_UP_AFTER" in (tmp_path / "out.report.html").read_text("utf-8")


def test_a_failing_server_is_given_up_on_under_concurrency_too(
    tmp_path: Path, settings: Settings
) -> None:
    """Rows in flight when the breaker trips keep their own bound; every row started
    after it goes without the model."""
    give_up, total, workers = 3, 40, 4
    settings = with_batch(settings, llm_give_up_after=give_up)
    source = write_csv(tmp_path / "in.csv", _rows(total))
    grader = ScriptedServerGrader(["fail"])
    report = run_batch(
        source,
        tmp_path / "out.csv",
        settings=settings,
        grader=grader,
        concurrency=workers,
        progress=False,
    )
    asked = [t for t in grader.timeouts if t != 0]
    assert give_up <= len(asked) <= give_up + workers - 1
    assert grader.timeouts.count(0.0) == total - len(asked)
    assert any(f"{total - len(asked)} rows were graded that way" in n for n in report.notes)


def test_a_verdict_between_failures_keeps_the_model_asked(
    tmp_path: Path, settings: Settings
) -> None:
    """Only failures *in a row* give up: a server that answers now and then is slow or
    flaky, not gone, and its verdicts are worth the wait."""
    give_up = 3
    settings = with_batch(settings, llm_give_up_after=give_up)
    source = write_csv(tmp_path / "in.csv", _rows(9))
    grader = ScriptedServerGrader(["fail", "fail", "ok"] * 3)
    report = run_batch(
        source,
        tmp_path / "out.csv",
        settings=settings,
        grader=grader,
        concurrency=1,
        progress=False,
    )
    assert 0 not in grader.timeouts and grader.requests == 9
    assert not any("COACH_BATCH_LLM_GIVE_UP_AFTER" in n for n in report.notes)
    assert any("6 rows were graded by the rubric alone" in n for n in report.notes)


# --- recordings: only from the batch's own folder ------------------------------------------


def test_a_recording_path_outside_the_folder_is_an_error_that_does_not_say_if_it_exists(
    tmp_path: Path, settings: Settings, transcriber: type[FakeTranscriber]
) -> None:
    """The probe: an uploaded CSV naming a server .ogg was transcribed into the report,
    and /etc/shadow answered "could not read the recording" (so: it exists)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    secret = elsewhere / "secret.wav"
    secret.write_bytes((VOICE / "dropout_en.wav").read_bytes())
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "mine.wav").write_bytes((VOICE / "dropout_en.wav").read_bytes())
    (batch / "link.wav").symlink_to(secret)
    source = write_csv(
        batch / "in.csv",
        [
            ["id", "question", "answer", "audio"],
            ["exists", Q, "", str(secret)],
            ["missing", Q, "", str(elsewhere / "nothing.wav")],
            ["dots", Q, "", "../elsewhere/secret.wav"],
            ["link", Q, "", "link.wav"],
            ["shadow", Q, "", "/etc/shadow"],
            ["ok", Q, "", "mine.wav"],
        ],
    )
    rows = {r.id: r for r in read_batch(source, settings)}
    assert rows["ok"].error is None and rows["ok"].answer
    outside = [rows[k].error or "" for k in ("exists", "missing", "dots", "link", "shadow")]
    assert all("is outside the folder recordings are read from" in e for e in outside)
    assert {e.split("'")[2] for e in outside} == {outside[0].split("'")[2]}, "one message"
    assert [p.name for p, _q in transcriber.heard] == ["mine.wav"], "nothing outside was opened"
    # --audio-dir widens the folder on purpose (the command line only)
    rows = {r.id: r for r in read_batch(source, settings, audio_dir=tmp_path)}
    assert rows["dots"].error is None and rows["exists"].error is None


# --- the UI's uploads ----------------------------------------------------------------------


def _grade_upload(settings: Settings, upload: Any) -> tuple[str, list[str] | None]:
    from coach.ui.batch import grade_file
    from coach.ui.services import AppServices

    from .test_ui import collect

    return collect(grade_file(AppServices(settings, grader=FakeGrader()), upload, True, "en"))[-1]


def test_an_uploaded_table_reaches_no_server_file_through_its_audio_column(
    tmp_path: Path, settings: Settings, transcriber: type[FakeTranscriber]
) -> None:
    server_file = tmp_path / "server" / "private.wav"
    server_file.parent.mkdir()
    server_file.write_bytes((VOICE / "dropout_en.wav").read_bytes())
    upload = write_csv(
        tmp_path / "answers.csv",
        [["id", "question", "answer", "audio"], ["1", Q, "", str(server_file)], ["2", Q, GOOD, ""]],
    )
    status, files = _grade_upload(settings, str(upload))
    assert files is not None, status
    rows = {r["id"]: r for r in read_output_csv(Path(files[0]))}
    assert "is outside the folder recordings are read from" in rows["1"]["error"]
    assert transcriber.heard == [], "the server's file was never opened"
    assert "用 Dropout" not in Path(files[1]).read_text("utf-8")


def test_a_zip_of_the_table_and_its_recordings_is_graded(
    tmp_path: Path, settings: Settings, transcriber: type[FakeTranscriber]
) -> None:
    bundle = tmp_path / "batch.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("answers.csv", f"id,question,answer,audio\n1,{Q},,audio/a1.wav\n")
        archive.write(VOICE / "dropout_en.wav", "audio/a1.wav")
    status, files = _grade_upload(settings, [str(bundle)])
    assert files is not None, status
    [row] = read_output_csv(Path(files[0]))
    assert row["status"] == "ok" and [p.name for p, _ in transcriber.heard] == ["a1.wav"]
    work = Path(files[0]).parent
    assert not (work / "upload").exists(), "the unpacked upload is removed"


def test_several_files_in_one_upload_are_a_table_and_its_recordings(
    tmp_path: Path, settings: Settings, transcriber: type[FakeTranscriber]
) -> None:
    recording = tmp_path / "a1.wav"
    recording.write_bytes((VOICE / "dropout_en.wav").read_bytes())
    table = tmp_path / "answers.csv"
    table.write_text(f"id,question,answer,audio\n1,{Q},,a1.wav\n", "utf-8")
    status, files = _grade_upload(settings, [str(table), str(recording)])
    assert files is not None, status
    assert read_output_csv(Path(files[0]))[0]["status"] == "ok"


def test_a_zip_that_leads_out_of_its_folder_is_refused(tmp_path: Path, settings: Settings) -> None:
    bundle = tmp_path / "batch.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("answers.csv", f"question,answer\n{Q},{GOOD}\n")
        archive.writestr("../../evil.wav", b"x")
    status, files = _grade_upload(settings, [str(bundle)])
    assert files is None and "not a plain file name" in status
    assert not (tmp_path / "evil.wav").exists()


def test_an_upload_over_the_limit_is_refused_before_any_copy_and_all_copies_removed(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe: a 215 MB CSV was copied into the data folder before the 200 MB limit
    refused it; the copy and Gradio's temporary file stayed, and the message showed the
    server path."""
    gradio_tmp = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(gradio_tmp))
    upload = gradio_tmp / "0123abcd" / "answers.csv"
    upload.parent.mkdir(parents=True)
    upload.write_text(f"question,answer\n{Q},{GOOD}\n" * 50, "utf-8")
    small = with_batch(settings, max_input_bytes=1_000)
    status, files = _grade_upload(small, [str(upload)])
    assert files is None
    assert (
        "answers.csv is 0 MB, over the limit" in status and "COACH_BATCH_MAX_INPUT_BYTES" in status
    )
    assert str(tmp_path) not in status, "no server path in the message"
    batch_root = small.paths.batch_work_root
    copies = [p for p in batch_root.rglob("*") if p.is_file()] if batch_root.exists() else []
    assert copies == [], "nothing was copied into the data folder"
    assert not upload.exists() and not upload.parent.exists(), "Gradio's temporary file is gone"


def test_a_refused_upload_names_the_file_not_its_place_on_the_server(
    tmp_path: Path, settings: Settings
) -> None:
    upload = tmp_path / "answers.csv"
    upload.write_text(f'question,answer\n{Q},"unclosed\n', "utf-8")
    status, files = _grade_upload(settings, str(upload))
    assert files is None and "answers.csv" in status and "never closed" in status
    assert str(tmp_path) not in status and str(settings.paths.data_dir) not in status
    assert upload.exists(), "a file outside Gradio's upload folder is the caller's"


# --- a read-only data folder ---------------------------------------------------------------


def test_a_read_only_data_folder_stops_a_batch_with_exit_1_before_any_row(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe: every row failed with "'RustBindingsAPI' object has no attribute
    'bindings'", exit 0."""
    from typer.testing import CliRunner

    from coach.cli import app

    make_index_read_only(settings, monkeypatch)
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD], [Q, PARTIAL]])
    result = CliRunner().invoke(
        app, ["grade", "--input", str(source), "--output", str(tmp_path / "out.csv"), "--no-llm"]
    )
    assert result.exit_code == 1
    assert "chroma.sqlite3 is read-only" in result.output and "COACH_DATA_DIR" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.csv").exists()
    for command in (["search", "过拟合"], ["grade", "-q", Q, "-a", GOOD, "--no-llm"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 1, command
        assert "is read-only" in result.output and "Traceback" not in result.output


def test_a_full_disk_is_said_once_at_start(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coach.store import data_dir

    monkeypatch.setattr(
        data_dir.shutil, "disk_usage", lambda _path: type("U", (), {"free": 1_000})()
    )
    with pytest.raises(data_dir.DataDirError, match="is full"):
        data_dir.check_data_dir(settings, "search the index")
