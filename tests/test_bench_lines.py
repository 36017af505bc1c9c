"""The LLM lines of `coach bench`: the target ratio and the one-at-a-time figure."""

from __future__ import annotations

from coach.bench.grade import LLMBench, TokenLoad
from coach.bench.suite import llm_lines


def load(mode: str, seconds: float, completion: int) -> TokenLoad:
    return TokenLoad(
        mode=mode,
        requests=8,
        seconds=seconds,
        prompt_tokens=7600,
        completion_tokens=completion,
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
        ratio_completion_batch_to_direct=0.97,
        speedup_direct_over_sequential=1.43,
    )
    batch, completion, sequential = llm_lines(bench)
    # the target ratio is on all tokens the server processed, prompt + completion
    assert (batch.coach, batch.baseline, batch.ratio) == ("78.0", "79.6 direct load", "0.98")
    assert (completion.coach, completion.ratio) == ("2.0", "0.97")
    assert sequential.baseline == "55.7 one at a time"
    assert sequential.ratio == "1.43"


def test_skipped_llm_part_says_why() -> None:
    [line] = llm_lines(LLMBench(skipped="LLM part skipped: no server at :8000"))
    assert "no server at :8000" in line.detail


def test_a_load_counts_prompt_and_completion_tokens() -> None:
    measured = TokenLoad(
        mode="direct", requests=4, seconds=2.0, prompt_tokens=100, completion_tokens=20
    )
    assert (measured.tokens_per_second, measured.completion_tokens_per_second) == (60.0, 10.0)


def test_a_load_gives_its_median_request_wait_and_hourly_rate() -> None:
    load = TokenLoad(
        mode="sequential",
        requests=4,
        seconds=8.0,
        prompt_tokens=400,
        completion_tokens=4,
        request_seconds=[1.0, 3.0, 2.0, 2.0],
    )
    assert load.median_request_seconds == 2.0
    assert load.answers_per_hour == 1800.0
    batch = TokenLoad(mode="batch", requests=2, seconds=0.0, prompt_tokens=0, completion_tokens=0)
    assert batch.median_request_seconds is None and batch.answers_per_hour == 0.0
