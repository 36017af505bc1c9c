"""Batch grading with a fake grader: file formats, validation, export safety, the HTML
report, the journal and the concurrency bound."""

from __future__ import annotations

import asyncio
import csv
import json
import re
from html import escape
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from openpyxl import Workbook

from coach.batch.export import neutralise
from coach.batch.models import OUTPUT_COLUMNS, BatchError, BatchInputError, JournalError
from coach.batch.reader import read_batch
from coach.batch.run import run_batch
from coach.config import Settings
from coach.grading.models import Grade

from .batch_fakes import FakeGrader, keyword_grade

GOOD = "可以用正则化、Dropout、数据增强和早停来防止过拟合。"
PARTIAL = "加 Dropout 就可以了。"
Q = "在大模型训练过程中，如何防止过拟合？"


def write_csv(
    path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def read_output_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def run(tmp_path: Path, source: Path, grader: FakeGrader | None = None, out: str = "out.csv", **kw):
    grader = grader or FakeGrader()
    report = run_batch(source, tmp_path / out, grader=grader, use_llm=False, progress=False, **kw)
    return report, grader


# --- formats ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_encodings_are_detected(tmp_path: Path, settings: Settings, encoding: str) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        [["id", "question", "answer"], ["a1", Q, GOOD], ["a2", "过拟合怎么办？", PARTIAL]],
        encoding,
    )
    rows = read_batch(source, settings)
    assert [(r.id, r.question, r.answer) for r in rows] == [
        ("a1", Q, GOOD),
        ("a2", "过拟合怎么办？", PARTIAL),
    ]
    report, grader = run(tmp_path, source)
    assert grader.calls == [GOOD, PARTIAL]
    out = read_output_csv(tmp_path / "out.csv")
    assert [(r["id"], r["question"], float(r["score"])) for r in out] == [
        ("a1", Q, 10.0),
        ("a2", "过拟合怎么办？", 2.5),
    ]
    assert report.rows == report.graded == 2


def test_bom_header_is_not_part_of_the_first_column(tmp_path: Path, settings: Settings) -> None:
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]], "utf-8-sig")
    assert source.read_bytes().startswith(b"\xef\xbb\xbf")
    assert read_batch(source, settings)[0].question == Q


def test_tsv_and_semicolon_csv(tmp_path: Path, settings: Settings) -> None:
    tsv = write_csv(tmp_path / "in.tsv", [["question", "answer"], [Q, "a, b, c"]], delimiter="\t")
    semi = write_csv(tmp_path / "semi.csv", [["question", "answer"], [Q, "a, b"]], delimiter=";")
    assert read_batch(tsv, settings)[0].answer == "a, b, c"
    assert read_batch(semi, settings)[0].answer == "a, b"


def test_missing_ids_get_stable_row_numbers_and_blank_rows_are_skipped(
    tmp_path: Path, settings: Settings
) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        [
            ["question", "answer", "id"],
            [Q, GOOD, ""],
            ["", "", ""],
            [Q, PARTIAL, "x9"],
            [Q, "多行\n答案", ""],
        ],
    )
    rows = read_batch(source, settings)
    assert [r.id for r in rows] == ["row-2", "x9", "row-5"]
    assert rows[2].answer == "多行\n答案"
    assert read_batch(source, settings) == rows  # same file, same ids


def test_jsonl_with_a_broken_line(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": 1, "question": Q, "answer": GOOD}, ensure_ascii=False),
        "",
        "{not json",
        json.dumps(
            {"id": 3, "question": Q, "answer": PARTIAL, "reference": "参考"}, ensure_ascii=False
        ),
        "[1, 2]",
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", "utf-8")
    report, grader = run(tmp_path, source, out="out.jsonl")
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text("utf-8").splitlines()]
    assert [(r["id"], r["status"]) for r in out] == [
        ("1", "ok"),
        ("row-3", "error"),
        ("3", "ok"),
        ("row-5", "error"),
    ]
    assert "not valid JSON" in out[1]["error"] and "not a JSON object" in out[3]["error"]
    assert out[2]["reference_title"] == "given reference"  # the reference column was passed on
    assert out[0]["points"][0] == {
        "label": "正则化",
        "explanation": "",
        "status": "covered",
        "evidence": "",
        "similarity": 0.0,
        "coverage": 0.0,
        "contradicted": False,
    }
    assert grader.calls == [GOOD, PARTIAL]
    assert report.errors == 2


def test_xlsx(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["ID", "Question", "Answer", "Topic"])
    sheet.append([1, Q, GOOD, "训练"])
    sheet.append([None, None, None, None])
    sheet.append([2.0, Q, PARTIAL, None])
    book.save(tmp_path / "in.xlsx")
    report, grader = run(tmp_path, tmp_path / "in.xlsx")
    out = read_output_csv(tmp_path / "out.csv")
    assert [(r["id"], r["topic"], r["score"]) for r in out] == [
        ("1", "训练", "10.0"),
        ("2", "训练优化", "2.5"),  # no topic column value: the graded card's topic
    ]
    assert grader.calls == [GOOD, PARTIAL]


# --- bad files ----------------------------------------------------------------------------


def test_missing_column_names_the_file_and_the_columns_found(
    tmp_path: Path, settings: Settings
) -> None:
    source = write_csv(tmp_path / "exam.csv", [["id", "问题", "answer"], ["1", Q, GOOD]])
    with pytest.raises(BatchInputError) as caught:
        read_batch(source, settings)
    message = str(caught.value)
    assert "exam.csv" in message and "question" in message and "'问题'" in message


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "is empty"),
        ("blank.csv", b"\n\n  \n", "no rows at all"),
        ("header.csv", b"question,answer\n", "no rows to grade"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("prose.csv", "这不是表格，只是一段话。\n第二行。\n".encode(), "columns found"),
        ("fake.xlsx", b"question,answer\nq,a\n", "not an Excel .xlsx workbook"),
        ("list.jsonl", b"[1, 2]\n[3]\n", "not JSONL"),
        ("old.xls", b"whatever", "Save it as .xlsx or .csv"),
    ],
)
def test_bad_files_fail_with_a_clear_message(
    tmp_path: Path, settings: Settings, name: str, content: bytes, expected: str
) -> None:
    source = tmp_path / name
    source.write_bytes(content)
    grader = FakeGrader()
    with pytest.raises(BatchInputError, match=re.escape(expected)) as caught:
        run(tmp_path, source, grader)
    assert name in str(caught.value)
    assert grader.calls == []
    assert not (tmp_path / "out.csv").exists()


def test_missing_input_file(tmp_path: Path) -> None:
    with pytest.raises(BatchInputError, match="does not exist"):
        run(tmp_path, tmp_path / "nope.csv")


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        [["id", "question", "answer"], ["a", Q, GOOD], ["b", Q, GOOD], ["a", Q, PARTIAL]],
    )
    grader = FakeGrader()
    with pytest.raises(BatchInputError, match=r"duplicate ids: 'a' at rows \[2, 4\]"):
        run(tmp_path, source, grader)
    assert grader.calls == []


def test_bad_output_name_fails_before_grading(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]])
    grader = FakeGrader()
    with pytest.raises(BatchError, match=r"must end in \.csv, \.jsonl or \.xlsx"):
        run(tmp_path, source, grader, out="out.txt")
    with pytest.raises(BatchError, match="is the input file"):
        run(tmp_path, source, grader, out="in.csv")
    assert grader.calls == []


# --- per-row errors -----------------------------------------------------------------------


def test_row_errors_are_recorded_and_the_rest_go_on(tmp_path: Path, settings: Settings) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        [
            ["id", "question", "answer"],
            ["ok1", Q, GOOD],
            ["noq", "", GOOD],
            ["noa", Q, "   "],
            ["long", Q, "长" * 60],
            ["boom", Q, "boom " + PARTIAL],
            ["ok2", Q, PARTIAL],
        ],
    )
    grader = FakeGrader(fail_on="boom")
    report = run_batch(
        source,
        tmp_path / "out.csv",
        settings=settings.model_copy(update={"batch_max_answer_chars": 50}),
        grader=grader,
        use_llm=False,
        progress=False,
    )
    out = {r["id"]: r for r in read_output_csv(tmp_path / "out.csv")}
    assert list(out) == ["ok1", "noq", "noa", "long", "boom", "ok2"]
    assert {k: r["status"] for k, r in out.items()} == {
        "ok1": "ok",
        "noq": "error",
        "noa": "error",
        "long": "error",
        "boom": "error",
        "ok2": "ok",
    }
    assert out["noq"]["error"] == "empty question"
    assert out["noa"]["error"] == "empty answer"
    assert "60 characters, over the limit of 50" in out["long"]["error"]
    assert out["boom"]["error"] == "grading failed: RuntimeError: model exploded"
    assert out["noq"]["score"] == "" and out["ok2"]["score"] == "2.5"
    assert grader.calls == [GOOD, "boom " + PARTIAL, PARTIAL]  # invalid rows never reach it
    assert (report.rows, report.graded, report.errors) == (6, 6, 4)


def test_flags_are_surfaced_in_output_and_summary(tmp_path: Path) -> None:
    class DownGrader(FakeGrader):
        async def agrade(self, question, answer, **kw) -> Grade:  # type: ignore[override]
            grade = await super().agrade(question, answer, **kw)
            return grade.model_copy(update={"flags": [*grade.flags, "llm_unavailable"]})

    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD], [Q, "无关"]])
    report, _ = run(tmp_path, source, DownGrader())
    out = read_output_csv(tmp_path / "out.csv")
    assert [r["flags"] for r in out] == ["llm_unavailable", "off_topic; llm_unavailable"]
    assert report.flag_counts == {"llm_unavailable": 2, "off_topic": 1}
    assert "llm_unavailable" in report.report_path.read_text("utf-8")


# --- export safety and the report ---------------------------------------------------------


@pytest.mark.parametrize("cell", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell: str) -> None:
    assert neutralise(cell) == "'" + cell
    assert neutralise("正常文本 =1") == "正常文本 =1"


def test_csv_output_neutralises_user_text_and_jsonl_keeps_it(tmp_path: Path) -> None:
    evil_q = '=HYPERLINK("http://x.invalid","click")'
    source = write_csv(
        tmp_path / "in.csv",
        [["id", "question", "answer"], ["@1", evil_q, GOOD], ["-2", "+cmd|' /C calc'!A0", PARTIAL]],
    )
    run(tmp_path, source)
    out = read_output_csv(tmp_path / "out.csv")
    assert [(r["id"], r["question"]) for r in out] == [
        ("'@1", "'" + evil_q),
        ("'-2", "'+cmd|' /C calc'!A0"),
    ]
    assert list(out[0]) == list(OUTPUT_COLUMNS)
    # out.jsonl's report is out.report.html too: replacing out.csv's needs overwrite
    run(tmp_path, source, out="out.jsonl", overwrite=True)
    data = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text("utf-8").splitlines()]
    assert [d["question"] for d in data] == [evil_q, "+cmd|' /C calc'!A0"]


def test_html_report_escapes_user_text_and_embeds_plots(tmp_path: Path) -> None:
    script = "<script>alert('x')</script> Dropout"
    source = write_csv(
        tmp_path / "in.csv",
        [["question", "answer", "topic"], ["<b>问题</b>", script, "<i>t</i>"], [Q, GOOD, ""]],
    )
    report, _ = run(tmp_path, source, out="results.csv")
    assert report.report_path == tmp_path / "results.report.html"
    html = report.report_path.read_text("utf-8")
    assert "<script>" not in html and "<b>问题</b>" not in html and "<i>t</i>" not in html
    assert escape(script) in html and escape("<b>问题</b>") in html
    assert html.count("src='data:image/png;base64,") == 2  # histogram + per-topic averages
    assert "训练优化" in html  # the second row's topic, named in the per-topic table


# --- journal ------------------------------------------------------------------------------


def test_journal_is_removed_after_success_and_output_is_in_input_order(tmp_path: Path) -> None:
    rows = [["id", "question", "answer"]] + [
        [f"r{i}", Q, GOOD if i % 2 else PARTIAL] for i in range(9)
    ]
    source = write_csv(tmp_path / "in.csv", rows)

    class Reversed(FakeGrader):
        """Later rows finish first, so journal order differs from input order."""

        async def agrade(self, question, answer, **kw) -> Grade:  # type: ignore[override]
            self.delay = 0.001 * (20 - len(self.calls))
            return await super().agrade(question, answer, **kw)

    report, _ = run(tmp_path, source, Reversed(), concurrency=9)
    assert [r["id"] for r in read_output_csv(tmp_path / "out.csv")] == [f"r{i}" for i in range(9)]
    assert not report.journal_path.exists()
    assert report.journal_path == tmp_path / "out.csv.partial.jsonl"


def _journal_of_interrupted_run(
    tmp_path: Path, source: Path, done: int, settings: Settings
) -> Path:
    """The journal a killed run leaves: header, ``done`` rows, and a torn last line."""
    from coach.batch.journal import Journal, JournalHeader, file_sha256
    from coach.batch.run import result_from_grade

    journal_path = settings.paths.batch_journal(tmp_path / "out.csv")
    header = JournalHeader(input=str(source), input_sha256=file_sha256(source), use_llm=False)
    journal = Journal.open(journal_path, header, resume=False)
    for row in read_batch(source, settings)[:done]:
        journal.append(result_from_grade(row, keyword_grade(row.question, row.answer)))
    journal.close()
    with journal_path.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "r9", "question": "在大模型')  # killed mid-write
    return journal_path


def test_resume_grades_only_the_missing_rows(tmp_path: Path, settings: Settings) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        [["id", "question", "answer"]] + [[f"r{i}", Q, f"答案{i}"] for i in range(6)],
    )
    _journal_of_interrupted_run(tmp_path, source, 4, settings)
    report, grader = run(tmp_path, source, resume=True)
    assert grader.calls == ["答案4", "答案5"]
    assert (report.skipped, report.graded, report.rows) == (4, 2, 6)
    assert [r["id"] for r in read_output_csv(tmp_path / "out.csv")] == [f"r{i}" for i in range(6)]


def test_existing_journal_without_resume_is_an_error(tmp_path: Path, settings: Settings) -> None:
    source = write_csv(tmp_path / "in.csv", [["id", "question", "answer"], ["r0", Q, GOOD]])
    journal = _journal_of_interrupted_run(tmp_path, source, 0, settings)
    grader = FakeGrader()
    with pytest.raises(JournalError, match="--resume") as caught:
        run(tmp_path, source, grader)
    assert str(journal) in str(caught.value)
    assert grader.calls == []


def test_journal_of_another_input_is_refused(tmp_path: Path, settings: Settings) -> None:
    source = write_csv(tmp_path / "in.csv", [["id", "question", "answer"], ["r0", Q, GOOD]])
    _journal_of_interrupted_run(tmp_path, source, 1, settings)
    write_csv(source, [["id", "question", "answer"], ["r0", Q, PARTIAL]])  # the file changed
    grader = FakeGrader()
    with pytest.raises(JournalError, match="belongs to a different input"):
        run(tmp_path, source, grader, resume=True)
    assert grader.calls == []


def test_resume_with_a_different_llm_setting_is_refused(tmp_path: Path, settings: Settings) -> None:
    source = write_csv(tmp_path / "in.csv", [["id", "question", "answer"], ["r0", Q, GOOD]])
    _journal_of_interrupted_run(tmp_path, source, 0, settings)
    with pytest.raises(JournalError, match="--no-llm"):
        run_batch(
            source,
            tmp_path / "out.csv",
            grader=FakeGrader(),
            use_llm=True,
            resume=True,
            progress=False,
        )


def test_resume_without_a_journal_grades_everything(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]])
    report, grader = run(tmp_path, source, resume=True)
    assert grader.calls == [GOOD] and report.skipped == 0
    assert any("Nothing to resume" in n for n in report.notes)


# --- concurrency and token accounting -----------------------------------------------------


@pytest.mark.parametrize("bound", [1, 3])
def test_concurrency_bound_is_respected(tmp_path: Path, bound: int) -> None:
    source = write_csv(
        tmp_path / "in.csv", [["question", "answer"]] + [[Q, f"{i} Dropout"] for i in range(10)]
    )
    grader = FakeGrader(delay=0.02)
    report, _ = run(tmp_path, source, grader, concurrency=bound)
    assert grader.max_in_flight == bound  # reached, never exceeded
    assert len(grader.calls) == 10 and report.concurrency == bound


def test_llm_token_usage_is_summed_from_the_chat_model(tmp_path: Path) -> None:
    """A grader whose chat model reports usage (as vLLM does): the batch totals it."""

    class ChattyGrader(FakeGrader):
        def __init__(self) -> None:
            super().__init__()
            reply = AIMessage(
                content="ok",
                usage_metadata={"input_tokens": 100, "output_tokens": 20, "total_tokens": 120},
                response_metadata={"model_name": "fake-judge"},
            )
            self.model = GenericFakeChatModel(messages=iter([reply] * 3))

        async def agrade(self, question, answer, **kw) -> Grade:  # type: ignore[override]
            await self.model.ainvoke(question)
            return await super().agrade(question, answer, **kw)

    source = write_csv(tmp_path / "in.csv", [["question", "answer"]] + [[Q, GOOD]] * 3)
    report = run_batch(source, tmp_path / "out.csv", grader=ChattyGrader(), progress=False)
    assert (report.llm_prompt_tokens, report.llm_completion_tokens) == (300, 60)


def test_arun_batch_works_inside_a_running_loop(tmp_path: Path) -> None:
    from coach.batch.run import arun_batch

    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]])

    async def main() -> float | None:
        report = await arun_batch(source, tmp_path / "o.jsonl", grader=FakeGrader(), progress=False)
        return report.mean_score

    assert asyncio.run(main()) == 10.0
