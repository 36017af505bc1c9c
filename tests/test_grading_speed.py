"""What makes a batch fast without the LLM must not change a grade: bf16 where the CPU
has it, the reference side encoded ahead per chunk, references remembered per question,
the IDF pool from the tokenizer alone."""

from __future__ import annotations

import pytest

from coach import hardware
from coach.config import Settings
from coach.grading.grader import Grader
from coach.grading.reference import ReferenceFinder

from .conftest import MODELS_DIR
from .test_grading_rubric import COMPLETE, ENGLISH, PARTIAL, QUESTION, REFERENCE, WRONG


@pytest.mark.parametrize(
    ("flags", "wanted", "chosen"),
    [
        ({"avx2", "avx512_bf16"}, "auto", "bfloat16"),
        ({"avx2", "amx_bf16"}, "auto", "bfloat16"),
        ({"avx2", "fma"}, "auto", "float32"),
        (set(), "auto", "float32"),
        ({"avx2"}, "bfloat16", "bfloat16"),
        ({"avx512_bf16"}, "float32", "float32"),
    ],
)
def test_dtype_follows_the_cpu_unless_named(
    monkeypatch: pytest.MonkeyPatch, flags: set[str], wanted: str, chosen: str
) -> None:
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset(flags))
    assert hardware.resolve_cpu_dtype(wanted) == chosen


def test_cpu_flags_read_from_cpuinfo(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n\n", "utf-8")
    monkeypatch.setattr(hardware, "CPUINFO", info)
    hardware.cpu_flags.cache_clear()
    try:
        assert hardware.cpu_has_bf16()
        monkeypatch.setattr(hardware, "CPUINFO", tmp_path / "missing")
        hardware.cpu_flags.cache_clear()
        assert hardware.cpu_flags() == frozenset()
    finally:
        hardware.cpu_flags.cache_clear()


def test_a_remembered_reference_is_a_fresh_copy() -> None:
    finder = ReferenceFinder(Settings())
    first = finder.from_text("q", "用正则化。\n---\n用 Dropout。")
    first.flags.append("no_matching_card")
    first.notes.append("changed by one grade")
    second = finder.from_text("q", "用正则化。\n---\n用 Dropout。")
    assert second.flags == [] and second.notes == []
    assert second.texts == first.texts


def test_the_cache_is_bounded() -> None:
    finder = ReferenceFinder(Settings(grading_reference_cache=2))
    for n in range(5):
        finder.from_text(f"q{n}", f"参考答案 {n}：用正则化。")
    assert len(finder._from_text) == 2
    assert ("q4", "参考答案 4：用正则化。") in finder._from_text


ANSWERS = [COMPLETE, PARTIAL, WRONG, ENGLISH, PARTIAL]  # one answer twice, as a bench does


@pytest.mark.slow
@pytest.mark.integration
def test_prefetched_chunk_grades_alike_and_runs_no_forward_pass_per_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(models_dir_override=MODELS_DIR)
    plain = Grader(settings, use_llm=False)
    expected = [plain.grade(QUESTION, a, reference=REFERENCE) for a in ANSWERS]

    fast = Grader(settings, use_llm=False)
    fast.prefetch(ANSWERS, [QUESTION] * len(ANSWERS), [REFERENCE] * len(ANSWERS))
    model = fast.rubric.evidence.encoder.model
    passes: list[int] = []
    auto_model = model[0].auto_model
    original = auto_model.forward

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        passes.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(auto_model, "forward", counted)
    got = [fast.grade(QUESTION, a, reference=REFERENCE) for a in ANSWERS]
    fast.clear_prefetched()
    assert passes == [], "a prefetched row ran its own forward pass"
    for want, have in zip(expected, got, strict=True):
        assert have.score == pytest.approx(want.score, abs=0.05)
        assert have.flags == want.flags
        assert [p.status for p in have.points] == [p.status for p in want.points]


@pytest.mark.slow
@pytest.mark.integration
def test_idf_ids_from_the_tokenizer_match_the_forward_pass() -> None:
    encoder = Grader(Settings(models_dir_override=MODELS_DIR), use_llm=False).rubric.evidence
    texts = [REFERENCE, COMPLETE, ENGLISH, "  ", "第一种说法：用正则化。"]
    ids = encoder.encoder.token_ids(texts)
    views = encoder.encoder.views(texts, cache=False)
    assert [list(i) for i in ids] == [list(v.ids) for v in views]
