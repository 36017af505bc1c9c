"""Batch grading through the real Grader: rubric only against the real index, and with
the LLM against the real vLLM server (the ``vllm_server`` fixture)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coach.batch.run import run_batch
from coach.config import Settings, get_settings
from coach.index.ingest import ingest

from .conftest import CORPUS, MODELS_DIR, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.integration]
SAMPLE = ROOT / "eval" / "sample_answers.csv"


@pytest.fixture(scope="module")
def indexed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("batch-index")
    report = ingest([CORPUS], Settings(data_dir=data_dir, models_dir_override=MODELS_DIR))
    assert report.files_failed == []
    return data_dir


@pytest.fixture
def indexed(indexed_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("COACH_DATA_DIR", str(indexed_dir))
    get_settings.cache_clear()
    return get_settings()


def read_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {r["id"]: r for r in csv.DictReader(handle)}


def test_sample_batch_with_the_real_rubric_grader(indexed: Settings, tmp_path: Path) -> None:
    output = tmp_path / "reports" / "sample.csv"
    report = run_batch(SAMPLE, output, settings=indexed, use_llm=False, progress=False)
    rows = read_rows(output)
    assert list(rows) == [f"s{i:02d}" for i in range(1, 12)]
    assert rows["s11"]["status"] == "error" and rows["s11"]["error"] == "empty answer"
    graded = {k: r for k, r in rows.items() if k != "s11"}
    assert all(r["status"] == "ok" and 0 <= float(r["score"]) <= 10 for r in graded.values())
    assert all(r["signals"] == "rubric" for r in graded.values())
    assert "过拟合" in rows["s01"]["reference_title"] and rows["s01"]["reference_sources"]
    assert rows["s10"]["reference_card_id"] == ""  # a given reference: no card retrieved
    # a full answer beats a one-point answer to the same question
    assert float(rows["s01"]["score"]) > float(rows["s02"]["score"])
    assert rows["s02"]["missed"]  # and the missed points are named
    assert (report.rows, report.errors) == (11, 1)
    assert report.report_path.exists() and not report.journal_path.exists()


def test_grade_command_runs_the_readme_example(indexed: Settings, tmp_path: Path) -> None:
    """`coach grade --input eval/sample_answers.csv --output reports/sample.csv --no-llm`."""
    from coach.cli import app

    result = CliRunner().invoke(
        app, ["grade", "--input", str(SAMPLE), "--output", "reports/sample.csv", "--no-llm"]
    )
    assert result.exit_code == 0, result.output
    assert len(read_rows(tmp_path / "reports" / "sample.csv")) == 11
    assert (tmp_path / "reports" / "sample.report.html").exists()


def test_batch_against_the_real_vllm_server(
    vllm_server, indexed: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COACH_LLM_BASE_URL", vllm_server.base_url)
    monkeypatch.setenv("COACH_LLM_MODEL", vllm_server.model)
    get_settings.cache_clear()
    settings = get_settings()
    source = tmp_path / "three.csv"
    with SAMPLE.open(encoding="utf-8", newline="") as src, source.open("w", newline="") as dst:
        rows = list(csv.reader(src))
        csv.writer(dst).writerows(rows[:3] + [rows[-1]])  # header, s01, s02, bad s11

    report = run_batch(
        source, tmp_path / "out.jsonl", settings=settings, concurrency=2, progress=False
    )

    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text("utf-8").splitlines()]
    assert [r["id"] for r in out] == ["s01", "s02", "s11"]
    assert [r["status"] for r in out] == ["ok", "ok", "error"]
    for row in out[:2]:
        # the tiny test model may write invalid JSON: then the rubric grade stands, flagged
        assert "llm" in row["signals"] or "llm_invalid_output" in row["flags"]
        assert "llm_unavailable" not in row["flags"]
    assert report.llm_completion_tokens and report.llm_completion_tokens > 0
