"""Batch grading throughput, each figure beside a bare baseline measured in the same run.

(a) Rubric only: answers/s of ``run_batch`` against a bare ``await grader.agrade`` loop
    over the same answers (the ratio is batch overhead: journal fsyncs, bookkeeping).
(b) With the LLM: tokens/s the batch grader gets from the model server, against the
    very requests it sent replayed straight to the server with the openai client at the
    same concurrency (target ratio >= 0.9), and one at a time. The ratio counts every
    token the server processed (prompt + completion, as vLLM's throughput benchmark
    does): the prompts are the same in every run, but the verdicts' lengths are not (the
    same four greedy requests wrote 418 completion tokens in one run and 643 in another:
    batching on a CPU changes the arithmetic), and a completion-only rate calls a run
    faster for writing more. Both rates are printed.
    The requests
    are recorded off the wire (httpx hooks), so the replay is byte-for-byte the same work
    but for vLLM's ``cache_salt``: each run has its own, so no run finds the prompts of
    an earlier one in the server's prefix cache (on a CPU server, prefill is a large part
    of a judge call, and a warm cache made the replays look twice as fast). Token counts
    come from the responses' ``usage`` fields.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from openai import AsyncOpenAI
from pydantic import BaseModel, Field, computed_field

from coach.batch.models import BatchReport, BatchRow
from coach.batch.reader import read_batch
from coach.batch.run import arun_batch
from coach.config import Settings
from coach.grading.judge import judge_chat_model
from coach.grading.models import AsyncGrader
from coach.grading.scorer import scorer_chat_model
from coach.llm.client import ModelServerUnavailable, check_server

CHAT_PATH = "/chat/completions"


class RubricBench(BaseModel):
    answers: int
    concurrency: int
    batch_seconds: float
    """run_batch's grading phase."""
    batch_answers_per_second: float
    end_to_end_seconds: float
    """run_batch as a whole: reading, grading, writing the output and the HTML report."""
    loop_seconds: float
    loop_answers_per_second: float
    ratio: float
    """batch / bare loop."""


class TokenLoad(BaseModel):
    mode: str
    requests: int
    failed: int = 0
    seconds: float
    prompt_tokens: int
    completion_tokens: int
    request_seconds: list[float] = Field(default_factory=list)
    """Each request's own wait (queueing at the server included); empty for the batch,
    whose requests LangChain sends."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def median_request_seconds(self) -> float | None:
        return float(statistics.median(self.request_seconds)) if self.request_seconds else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def answers_per_hour(self) -> float:
        """One request per answer (the scorer; the judge's repairs add requests)."""
        return 3600 * self.requests / self.seconds if self.seconds > 0 else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def completion_tokens_per_second(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds > 0 else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tokens_per_second(self) -> float:
        """Prompt + completion tokens per second: all the work the server did."""
        total = self.prompt_tokens + self.completion_tokens
        return total / self.seconds if self.seconds > 0 else 0.0


class LLMBench(BaseModel):
    skipped: str | None = None
    base_url: str = ""
    model: str = ""
    concurrency: int = 0
    answers: int = 0
    batch: TokenLoad | None = None
    direct: TokenLoad | None = None
    sequential: TokenLoad | None = None
    ratio_batch_to_direct: float | None = None
    """Target >= 0.9: the batch grader keeps the server nearly as busy as a bare load
    (tokens processed per second, prompt + completion)."""
    ratio_completion_batch_to_direct: float | None = None
    """The same on completion tokens alone (varies with the verdicts' lengths)."""
    speedup_direct_over_sequential: float | None = None
    notes: list[str] = Field(default_factory=list)


class GradeBench(BaseModel):
    input: str
    rubric: RubricBench | None = None
    llm: LLMBench | None = None


def bench_rows(
    input_path: Path, settings: Settings, repeat: int, limit: int | None
) -> list[BatchRow]:
    """The gradable rows of the input, each repeated ``repeat`` times under a new id."""
    rows = [r for r in read_batch(input_path, settings) if r.error is None][:limit]
    return [
        r.model_copy(update={"id": f"{r.id}#{n}" if repeat > 1 else r.id})
        for n in range(repeat)
        for r in rows
    ]


def write_jsonl(rows: list[BatchRow], path: Path) -> Path:
    fields = {"id", "question", "answer", "reference", "topic"}
    path.write_text(
        "".join(json.dumps(r.model_dump(include=fields), ensure_ascii=False) + "\n" for r in rows),
        "utf-8",
    )
    return path


async def _loop(grader: AsyncGrader, rows: list[BatchRow]) -> float:
    started = time.perf_counter()
    for row in rows:
        await grader.agrade(row.question, row.answer, reference=row.reference)
    return time.perf_counter() - started


async def bench_rubric(
    settings: Settings, rows: list[BatchRow], concurrency: int, grader: AsyncGrader | None = None
) -> RubricBench:
    if grader is None:
        from coach.grading.grader import Grader

        grader = Grader(settings, use_llm=False)
    await grader.agrade(rows[0].question, rows[0].answer, reference=rows[0].reference)  # warm up
    loop_seconds = await _loop(grader, rows)
    report = await _batch_in_scratch(rows, settings, grader, concurrency, use_llm=False)
    return RubricBench(
        answers=len(rows),
        concurrency=concurrency,
        batch_seconds=report.grading_seconds,
        batch_answers_per_second=report.answers_per_second,
        end_to_end_seconds=report.elapsed_seconds,
        loop_seconds=loop_seconds,
        loop_answers_per_second=len(rows) / loop_seconds,
        ratio=report.answers_per_second / (len(rows) / loop_seconds),
    )


class WireRecorder:
    """httpx hooks that keep every chat-completion request body and sum the usage of
    every response, whoever sends them (here: the grader's LangChain chat model)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.failed = 0

    async def on_request(self, request: httpx.Request) -> None:
        if request.url.path.endswith(CHAT_PATH):
            self.bodies.append(json.loads(request.content))

    async def on_response(self, response: httpx.Response) -> None:
        if not response.request.url.path.endswith(CHAT_PATH):
            return
        await response.aread()
        if response.status_code != 200:
            self.failed += 1
            return
        usage = response.json().get("usage") or {}
        self.prompt_tokens += usage.get("prompt_tokens", 0)
        self.completion_tokens += usage.get("completion_tokens", 0)

    def client(self, timeout: float) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=timeout,
            event_hooks={"request": [self.on_request], "response": [self.on_response]},
        )


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def cache_salt(mode: str) -> str:
    """A prefix-cache namespace of one's own for one run of the benchmark."""
    return f"coach-bench-{mode}-{uuid.uuid4().hex}"


async def replay(
    client: AsyncOpenAI, bodies: list[dict[str, Any]], concurrency: int, mode: str
) -> TokenLoad:
    """Send the recorded request bodies straight to the server, ``concurrency`` at once,
    under a fresh ``cache_salt``."""
    accepted = set(inspect.signature(client.chat.completions.create).parameters)
    semaphore = asyncio.Semaphore(concurrency)
    totals = {"prompt": 0, "completion": 0, "failed": 0}
    waits: list[float] = []
    salt = cache_salt(mode)

    async def send(body: dict[str, Any]) -> None:
        body = {**body, "cache_salt": salt}
        known = {k: v for k, v in body.items() if k in accepted}
        extra = {k: v for k, v in body.items() if k not in accepted}
        async with semaphore:
            sent = time.perf_counter()
            try:
                response = await client.chat.completions.create(**known, extra_body=extra or None)
            except Exception:  # a failed request counts as failed, the load goes on
                totals["failed"] += 1
                return
            waits.append(time.perf_counter() - sent)
        if response.usage:
            totals["prompt"] += response.usage.prompt_tokens
            totals["completion"] += response.usage.completion_tokens

    started = time.perf_counter()
    await asyncio.gather(*(send(b) for b in bodies))
    seconds = time.perf_counter() - started
    return TokenLoad(
        mode=mode,
        requests=len(bodies),
        failed=totals["failed"],
        seconds=seconds,
        prompt_tokens=totals["prompt"],
        completion_tokens=totals["completion"],
        request_seconds=waits,
    )


async def bench_llm(settings: Settings, rows: list[BatchRow], concurrency: int) -> LLMBench:
    try:
        check_server(settings)
    except ModelServerUnavailable as exc:
        return LLMBench(skipped=f"LLM part skipped: {exc}")
    from coach.grading.grader import Grader

    result = LLMBench(
        base_url=settings.llm.base_url,
        model=settings.llm.model,
        concurrency=concurrency,
        answers=len(rows),
    )
    # Load the embedding model first so the timed batch measures grading, not loading.
    await Grader(settings, use_llm=False).agrade(rows[0].question, rows[0].answer)
    recorder = WireRecorder()
    chat_model = scorer_chat_model if settings.grading.llm_mode == "scorer" else judge_chat_model
    async with recorder.client(settings.grading.judge_timeout) as http_client:
        grader = Grader(
            settings,
            use_llm=True,
            chat_model=chat_model(
                settings,
                http_async_client=http_client,
                extra_body={"cache_salt": cache_salt("batch")},
            ),
        )
        report = await _batch_in_scratch(rows, settings, grader, concurrency, use_llm=True)
    if not recorder.bodies:
        result.skipped = (
            "LLM part skipped: the grader sent no request to the model server "
            f"(flags: {report.flag_counts})."
        )
        return result
    result.batch = TokenLoad(
        mode="batch",
        requests=len(recorder.bodies),
        failed=recorder.failed,
        seconds=report.grading_seconds,
        prompt_tokens=recorder.prompt_tokens,
        completion_tokens=recorder.completion_tokens,
    )
    client = AsyncOpenAI(
        base_url=settings.llm.base_url,
        api_key=settings.llm.api_key,
        timeout=settings.grading.judge_timeout,  # the judge's own wait, queueing included
        max_retries=0,
    )
    async with client:
        result.direct = await replay(client, recorder.bodies, concurrency, "direct")
        result.sequential = await replay(client, recorder.bodies, 1, "sequential")
    batch, direct, sequential = result.batch, result.direct, result.sequential
    result.ratio_batch_to_direct = _ratio(batch.tokens_per_second, direct.tokens_per_second)
    result.ratio_completion_batch_to_direct = _ratio(
        batch.completion_tokens_per_second, direct.completion_tokens_per_second
    )
    result.speedup_direct_over_sequential = _ratio(
        direct.tokens_per_second, sequential.tokens_per_second
    )
    result.notes.append(
        "Each run (batch, direct, sequential) has its own prefix-cache salt: none reuses "
        "the prompts another one left in the server's cache."
    )
    if report.flag_counts:
        result.notes.append(f"Flags in the batch run: {report.flag_counts}")
    return result


async def bench_grade(
    settings: Settings,
    input_path: Path,
    *,
    repeat: int,
    limit: int | None,
    concurrency: int | None,
    rubric: bool = True,
    llm: bool = True,
) -> GradeBench:
    concurrency = concurrency or settings.batch.concurrency
    bench = GradeBench(input=str(input_path))
    if rubric:
        bench.rubric = await bench_rubric(
            settings, bench_rows(input_path, settings, repeat, None), concurrency
        )
    if llm:
        bench.llm = await bench_llm(
            settings, bench_rows(input_path, settings, 1, limit), concurrency
        )
    return bench


async def _batch_in_scratch(
    rows: list[BatchRow],
    settings: Settings,
    grader: AsyncGrader,
    concurrency: int,
    *,
    use_llm: bool,
) -> BatchReport:
    """Run the real batch path over ``rows`` in a throwaway folder (input and output)."""
    with tempfile.TemporaryDirectory(prefix="coach-bench-grade-") as scratch:
        source = write_jsonl(rows, Path(scratch) / "answers.jsonl")
        return await arun_batch(
            source,
            Path(scratch) / "graded.jsonl",
            settings=settings,
            use_llm=use_llm,
            concurrency=concurrency,
            grader=grader,
            progress=False,
        )
