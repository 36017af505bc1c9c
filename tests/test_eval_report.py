"""The report writer produces Markdown with its PNG plots, and `coach eval` writes one
report per run, reporting parts it cannot run instead of failing."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coach.cli import app
from coach.config import Settings
from coach.evaluation import plots
from coach.evaluation.report import Report, fmt, text_table
from coach.evaluation.retrieval import RetrievalScores
from coach.evaluation.suite import EvalOptions, run_eval

from .test_eval_mohler import OracleGrader

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _scores(mode: str, ranks: list[int | None]) -> RetrievalScores:
    return RetrievalScores(
        mode=mode,
        cases=len(ranks),
        recall_at_1=sum(r == 1 for r in ranks) / len(ranks),
        recall_at_5=sum(r is not None and r <= 5 for r in ranks) / len(ranks),
        mrr=sum(1 / r for r in ranks if r) / len(ranks),
        misses=[],
        ranks=ranks,
        styles=["colloquial", "english", "colloquial"],
    )


def test_report_writes_markdown_and_png(settings: Settings, tmp_path: Path) -> None:
    settings = settings.model_copy(update={"reports_dir": tmp_path / "reports"})
    now = datetime(2026, 1, 2, 3, 4, 5)
    report = Report.new(settings, "eval-test", "A title", now=now)
    assert report.directory == tmp_path / "reports" / "eval-test-20260102-030405"
    # A second run in the same second gets its own folder, never overwriting the first.
    assert Report.new(settings, "eval-test", "again", now=now).directory.name.endswith("-2")

    results = [_scores("dense", [1, 2, None]), _scores("hybrid", [1, 1, 4])]
    report.heading("Retrieval")
    report.table(["retriever", "MRR", "note"], [["hybrid", fmt(0.5), "a|b"], ["x", fmt(None), ""]])
    png = report.figure("retrieval bars", plots.retrieval_bars(results), "Recall per retriever")
    report.figure("by-style", plots.retrieval_by_style(results), "By style")
    path = report.write()

    text = path.read_text("utf-8")
    assert text.startswith("# A title\n")
    assert "| retriever | MRR | note |" in text
    assert "| hybrid | 0.500 | a\\|b |" in text  # pipes escaped, numbers formatted
    assert "| x | – |  |" in text
    assert "![Recall per retriever](retrieval-bars.png)" in text
    assert png.name == "retrieval-bars.png"
    for image in report.images:
        assert image.read_bytes()[:8] == PNG_MAGIC
        assert image.stat().st_size > 5_000


def test_text_table_aligns_columns() -> None:
    table = text_table(["name", "n"], [["hybrid", "10"], ["bm25", "7"]])
    assert table.splitlines() == ["name     n", "hybrid  10", "bm25     7"]


def _eval_dir(root: Path) -> tuple[Path, dict[str, float]]:
    """An eval dir with a tiny human-scored Mohler-format set."""
    folder = root / "eval" / "mohler"
    folder.mkdir(parents=True)
    rows = [
        {
            "id": f"{g}.{i}",
            "question": "What is a queue?",
            "answer": f"answer {g}{i}",
            "reference": "A FIFO list.",
            "human_score": float(3 * i + (g == "b")),
            "group": g,
        }
        for g in ("a", "b")
        for i in range(4)
    ]
    with (folder / "answers.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (folder / "published.json").write_text(
        json.dumps(
            {
                "systems": [
                    {
                        "system": "Paper X",
                        "source": "x",
                        "pearson": 0.5,
                        "rmse": 1.0,
                        "rmse_kind": "calibrated",
                        "answers": 8,
                    }
                ]
            }
        ),
        "utf-8",
    )
    return root / "eval", {r["answer"]: r["human_score"] for r in rows}


def test_run_eval_writes_one_report_and_skips_what_cannot_run(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    eval_dir, by_answer = _eval_dir(tmp_path)
    # The batch builds coach's Grader; a fake with the same constructor stands in for it.
    monkeypatch.setattr(
        "coach.grading.grader.Grader",
        lambda settings, use_llm=True, **_: OracleGrader(by_answer, slope=0.8, offset=1.0),
    )
    settings = settings.model_copy(
        update={"eval_dir": eval_dir, "reports_dir": tmp_path / "reports"}
    )
    outcome = run_eval(
        settings,
        ["retrieval", "mohler"],
        EvalOptions(use_llm=False, progress=False, checks=False),
    )
    text = outcome.report_path.read_text("utf-8")
    assert outcome.report_path.parent.parent == tmp_path / "reports"
    # No retrieval set in this eval dir: said, not crashed.
    assert "## Retrieval\n\nSkipped:" in text
    assert "retrieval.jsonl not found" in "\n".join(outcome.headlines)
    # Mohler part: coach's row (a perfect ranker), the human ceiling is absent (no grader
    # columns), the published row, the scatter plot, and the graded rows kept.
    assert "| coach: rubric | 8 | 1.000 | 1.000 |" in text
    assert "| published: Paper X | 8 | 0.500 | – | – | 1.000 |" in text
    assert "rubric + LLM (qwen2.5-coder-1.5b): skipped (--no-llm)." in text
    assert (outcome.report_path.parent / "mohler-agreement.png").read_bytes()[:8] == PNG_MAGIC
    assert (outcome.report_path.parent / "mohler-rubric.jsonl").is_file()
    assert any("coach: rubric" in line for line in outcome.headlines)
    assert outcome.data["mohler"].results[0].pearson == pytest.approx(1.0)


def test_cli_eval_mohler_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    eval_dir, by_answer = _eval_dir(tmp_path)
    monkeypatch.setattr(
        "coach.grading.grader.Grader",
        lambda settings, use_llm=True, **_: OracleGrader(by_answer),
    )
    monkeypatch.setenv("COACH_EVAL_DIR", str(eval_dir))
    monkeypatch.setenv("COACH_REPORTS_DIR", str(tmp_path / "reports"))
    # The baselines need the real e5 model (tests/test_evidence_integration.py has it).
    monkeypatch.setattr("coach.evaluation.baselines.baseline_agreements", lambda *a, **k: [])
    result = CliRunner().invoke(app, ["eval", "mohler", "--no-llm", "--limit", "5", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{") :])
    [rubric] = data["mohler"]["results"]
    assert rubric["answers"] == 5 and rubric["pearson"] == pytest.approx(1.0)
    assert "pairs" not in rubric
    assert Path(data["report"]).is_file()


def test_grading_part_reports_per_kind_and_skips_llm_with_reason(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    eval_dir = tmp_path / "eval"
    eval_dir.mkdir()
    cases = [
        {"id": "g1", "question": "Q?", "answer": "good", "kind": "complete", "band": [7, 10]},
        {"id": "g2", "question": "Q?", "answer": "half", "kind": "partial", "band": [3, 6]},
        {"id": "g3", "question": "Q?", "answer": "bad", "kind": "wrong", "band": [0, 2]},
        {"id": "g4", "question": "Q?", "answer": "fooled", "kind": "wrong", "band": [0, 2]},
    ]
    (eval_dir / "grading.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases), "utf-8")
    scores = {"good": 9.0, "half": 5.0, "bad": 1.0, "fooled": 8.0}
    monkeypatch.setattr(
        "coach.grading.grader.Grader",
        lambda settings, use_llm=True, **_: OracleGrader(scores, needs_reference=False),
    )
    settings = settings.model_copy(
        update={
            "eval_dir": eval_dir,
            "reports_dir": tmp_path / "reports",
            "llm_base_url": "http://127.0.0.1:9/v1",
        }
    )
    outcome = run_eval(settings, ["grading"], EvalOptions(use_llm=True, progress=False))
    text = outcome.report_path.read_text("utf-8")
    assert "### rubric" in text
    # 3 of 4 in band; the "fooled" wrong answer is listed with its band.
    assert "| all | 4 |" in text and "| 0.75 |" in text
    assert "g4 (wrong): 8.00, expected 0-2" in text
    assert "skipped, the model server is not reachable" in text
    assert (outcome.report_path.parent / "grading-rubric.png").read_bytes()[:8] == PNG_MAGIC
    [label] = outcome.data["grading"]
    assert label == "rubric"
