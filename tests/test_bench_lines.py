"""The LLM lines of `coach bench`: the target ratio and the one-at-a-time figure."""

from __future__ import annotations

from coach.evaluation.bench_all import llm_lines
from coach.evaluation.bench_grade import LLMBench, TokenLoad


def load(mode: str, seconds: float, completion: int) -> TokenLoad:
    return TokenLoad(
        mode=mode,
        requests=8,
        seconds=seconds,
        prompt_tokens=7600,
        completion_tokens=completion,
        completion_tokens_per_second=completion / seconds,
    )


def test_batch_direct_and_one_at_a_time_are_all_printed() -> None:
    bench = LLMBench(
        model="m",
        concurrency=4,
        answers=8,
        batch=load("batch", 100, 196),
        direct=load("direct", 98, 196),
        sequential=load("sequential", 140, 196),
        ratio_batch_to_direct=0.98,
        speedup_direct_over_sequential=1.43,
    )
    batch, sequential = llm_lines(bench)
    assert (batch.coach, batch.baseline, batch.ratio) == ("2.0", "2.0 direct load", "0.98")
    assert sequential.baseline == "1.4 one at a time" and sequential.ratio == "1.43"


def test_skipped_llm_part_says_why() -> None:
    [line] = llm_lines(LLMBench(skipped="LLM part skipped: no server at :8000"))
    assert "no server at :8000" in line.detail
