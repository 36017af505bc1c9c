"""Mohler 2011 conversion on the real file, and the human-agreement pipeline through real
batch grading driven by fake graders (no models)."""

from __future__ import annotations

import asyncio
import csv
from collections import Counter
from pathlib import Path

import pytest

from coach.batch.reader import read_batch
from coach.config import Settings
from coach.evaluation.human_agreement import grade_and_compare, load_human_scores, sample_ids
from coach.evaluation.mohler import ANSWERS_FILE, PROVENANCE_FILES, convert, read_published
from coach.grading.models import Grade

from .conftest import ROOT

SOURCE_DIR = ROOT.parent / "shared" / "datasets" / "mohler2011"
COMMITTED = ROOT / "eval" / "mohler"
needs_source = pytest.mark.skipif(
    not (SOURCE_DIR / "mohler2011_unt_cs.jsonl").is_file(), reason="Mohler source not present"
)


@needs_source
def test_convert_real_file(tmp_path: Path) -> None:
    report = convert(SOURCE_DIR, tmp_path / "mohler")
    assert report.rows == 2273
    assert report.questions == 81
    assert (report.min_score, report.max_score) == (0.0, 10.0)
    assert {p.name for p in report.copied} == set(PROVENANCE_FILES)
    with report.output.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2273
    scores = Counter(float(r["human_score"]) for r in rows)
    # SOURCE.md's distribution on 0-5 (0:23 ... 5:1121), doubled.
    assert scores[0.0] == 23 and scores[10.0] == 1121 and scores[9.0] == 306
    assert set(scores) == {float(s) for s in range(11)}
    first = rows[0]
    assert first["id"] == "1.1.0"
    assert (
        first["reference"]
        == "To simulate the behaviour of portions of the desired software product."
    )
    # grader 1 gave 3, grader 2 gave 4 on 0-5 -> 6, 8 and mean 7 on 0-10.
    assert (first["human_score_grader1"], first["human_score_grader2"], first["human_score"]) == (
        "6.0",
        "8.0",
        "7.0",
    )
    # The committed copy is exactly what the converter writes.
    assert (COMMITTED / ANSWERS_FILE).read_bytes() == report.output.read_bytes()


def test_committed_file_is_a_valid_batch_file(settings: Settings) -> None:
    rows = read_batch(COMMITTED / ANSWERS_FILE, settings)
    assert len(rows) == 2273
    assert all(r.error is None and r.reference for r in rows)
    humans = load_human_scores(COMMITTED / ANSWERS_FILE)
    assert len(humans) == 2273
    assert len({h.group for h in humans.values()}) == 12  # 10 assignments + 2 exams
    assert (COMMITTED / "mohler2011_unt_cs.LICENSE.txt").is_file()
    published = {p["system"]: p for p in read_published(COMMITTED / "published.json")}
    assert published["Sultan, Salazar & Sumner 2016"]["pearson"] == 0.592
    assert published["SVMRank, hybrid (best Pearson in the paper)"]["pearson"] == 0.518
    assert published["Inter-annotator agreement (two human graders)"]["pearson"] == 0.586


def test_sample_is_seeded_and_keeps_file_order() -> None:
    ids = [str(i) for i in range(100)]
    sample = sample_ids(ids, 10, seed=3)
    assert len(sample) == 10 and sample == sorted(sample, key=int)
    assert sample_ids(ids, 10, seed=3) == sample
    assert sample_ids(ids, None, seed=3) == ids


class OracleGrader:
    """Returns ``slope * human + offset`` (human score looked up by answer): a grader that
    ranks perfectly but on its own scale."""

    def __init__(
        self,
        by_answer: dict[str, float],
        slope: float = 1.0,
        offset: float = 0.0,
        needs_reference: bool = True,
    ) -> None:
        self.by_answer = by_answer
        self.needs_reference = needs_reference
        self.slope = slope
        self.offset = offset
        self.calls = 0

    async def agrade(
        self,
        question: str,
        answer: str,
        *,
        reference: str | None = None,
        card_id: str | None = None,
        llm_timeout: float | None = None,
    ) -> Grade:
        if self.needs_reference:
            assert reference, "Mohler rows must be graded against their own reference"
        self.calls += 1
        score = self.slope * self.by_answer[answer] + self.offset
        return Grade(
            score=score,
            signals=["rubric"],
        )


def _tiny_set(path: Path) -> dict[str, float]:
    """Six answers in two groups; grader 1 gives 0,2,..,10, grader 2 two more (capped at
    10), the human score is their mean: 1, 3, 5, 7, 9, 10."""
    rows = [
        {
            "id": f"q{i}",
            "question": "What is a stack?",
            "answer": f"answer {i}",
            "reference": "A LIFO list.",
            "human_score": (2 * i + min(10, 2 * i + 2)) / 2,
            "human_score_grader1": float(2 * i),
            "human_score_grader2": float(min(10, 2 * i + 2)),
            "group": "a" if i < 3 else "b",
        }
        for i in range(6)
    ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return {r["answer"]: r["human_score"] for r in rows}


def test_grade_and_compare_through_batch(tmp_path: Path, settings: Settings) -> None:
    by_answer = _tiny_set(tmp_path / "set.csv")
    grader = OracleGrader(by_answer, slope=0.5, offset=1.0)
    run = asyncio.run(
        grade_and_compare(
            tmp_path / "set.csv",
            tmp_path / "work",
            settings=settings,
            use_llm=False,
            limit=None,
            scale=5.0,
            name="tiny",
            progress=False,
            grader=grader,
        )
    )
    assert grader.calls == 6
    [rubric] = run.results
    assert rubric.answers == 6 and rubric.errors == 0
    assert rubric.pearson == pytest.approx(1.0)
    assert rubric.spearman == pytest.approx(1.0)
    # On 0-5: human h/2, coach (0.5 h + 1)/2, so the error is 0.5 - h/4.
    errors = [0.5 - h / 4 for h in (1, 3, 5, 7, 9, 10)]
    assert rubric.rmse == pytest.approx((sum(e * e for e in errors) / 6) ** 0.5)
    assert rubric.mae == pytest.approx(sum(abs(e) for e in errors) / 6)
    # Calibration learnt on the other group: group a (coach 1.5, 2.5, 3.5) lies below all
    # of group b's training points -> flat at b's lowest fitted value (7/2), and b above
    # a's -> flat at a's highest (5/2): errors 3, 2, 1 and 1, 2, 2.5 on 0-5.
    assert rubric.calibrated_rmse == pytest.approx(((9 + 4 + 1 + 1 + 4 + 6.25) / 6) ** 0.5)
    assert run.skipped == ["rubric + LLM (qwen2.5-coder-1.5b): skipped (--no-llm)."]
    ceiling = run.inter_grader
    assert ceiling is not None
    assert ceiling.pearson == pytest.approx(0.9819805060619655)  # scipy on the two columns
    # Grader 1 vs the mean: 1 point below on 0-10 (0.5 on 0-5) on all but the top answer.
    assert ceiling.rmse == pytest.approx((5 * 0.25 / 6) ** 0.5)
    assert all(p.exists() for p in run.outputs)
    assert not list((tmp_path / "work").glob("*-input.csv"))


def test_llm_run_skipped_with_reason_when_server_down(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_answer = _tiny_set(tmp_path / "set.csv")
    down = settings.model_copy(update={"llm_base_url": "http://127.0.0.1:9/v1"})
    run = asyncio.run(
        grade_and_compare(
            tmp_path / "set.csv",
            tmp_path / "work",
            settings=down,
            use_llm=True,
            limit=4,
            scale=5.0,
            name="tiny",
            progress=False,
            grader=OracleGrader(by_answer),
        )
    )
    assert [r.label for r in run.results] == ["rubric"]
    assert run.results[0].answers == 4
    assert len(run.skipped) == 1 and "not reachable" in run.skipped[0]
    assert "127.0.0.1:9" in run.skipped[0]


def test_llm_rows_per_served_model_with_rubric_on_the_same_sample(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_answer = _tiny_set(tmp_path / "set.csv")
    monkeypatch.setattr("coach.llm.client.list_models", lambda _settings: ["small-judge"])
    wanted = settings.model_copy(
        update={"eval_llm_models": ["small-judge", "absent-judge"], "eval_llm_sample": 3}
    )
    grader = OracleGrader(by_answer)
    run = asyncio.run(
        grade_and_compare(
            tmp_path / "set.csv",
            tmp_path / "work",
            settings=wanted,
            use_llm=True,
            limit=None,
            scale=5.0,
            name="tiny",
            progress=False,
            grader=grader,
        )
    )
    assert grader.calls == 6 + 3
    assert [(r.label, r.answers) for r in run.results] == [
        ("rubric", 6),
        ("rubric + LLM (small-judge)", 3),
        ("rubric (same 3 answers)", 3),
    ]
    [reason] = run.skipped
    assert "absent-judge" in reason and "serves: small-judge" in reason
    assert (tmp_path / "work" / "tiny-llm-small-judge.jsonl").is_file()
