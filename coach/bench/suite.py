"""Every speed benchmark in one run, as one compact table (``coach bench``).

Why a wrapper: each benchmark has its own module (ingest/search in index.py, batch
grading in grade.py, serving in serve.py) and prints its own detail; this
runs them in turn and keeps one line per figure, each beside the baseline it is measured
against. A benchmark that cannot run (no index, no grader yet, no model server) becomes a
``skipped`` line with the reason; the others still run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from coach.config import Settings
from coach.evaluation.report import fmt, text_table

if TYPE_CHECKING:
    from coach.bench.grade import LLMBench

HEADERS = ("benchmark", "coach", "baseline", "ratio", "detail")


class BenchLine(BaseModel):
    benchmark: str
    coach: str = "–"
    baseline: str = "–"
    ratio: str = "–"
    detail: str = ""

    def row(self) -> list[str]:
        return [self.benchmark, self.coach, self.baseline, self.ratio, self.detail]


class BenchOptions(BaseModel):
    paths: list[Path]
    """Corpus to ingest."""
    queries_file: Path
    answers_file: Path
    """Batch file for the grading benchmarks."""
    search_rounds: int = 3
    grade_repeat: int = 5
    llm_limit: int | None = None
    serve_packs: list[str] = []
    """LLM packs for the serving benchmark (each starts its own server: minutes)."""


def _skipped(name: str, exc: Exception | str) -> list[BenchLine]:
    reason = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return [BenchLine(benchmark=name, detail=f"skipped: {reason}")]


def ingest_lines(settings: Settings, options: BenchOptions) -> list[BenchLine]:
    from coach.bench.index import bench_ingest

    r = bench_ingest(settings, options.paths)
    return [
        BenchLine(
            benchmark="ingest: embed texts/s",
            coach=fmt(r.coach_texts_per_second, 1),
            baseline=fmt(r.bare_texts_per_second, 1) + " bare encode",
            ratio=fmt(r.ratio, 2),
            detail=f"{r.texts} texts, {r.cards} cards; full ingest {r.wall_seconds:.1f} s",
        )
    ]


def search_lines(settings: Settings, options: BenchOptions) -> list[BenchLine]:
    from coach.bench.index import bench_search
    from coach.evaluation.retrieval import MODES, load_cases
    from coach.index.retriever import HybridSearcher

    searcher = HybridSearcher(settings)
    queries = [c.query for c in load_cases(options.queries_file)]
    lines = []
    for mode in MODES:
        r = bench_search(searcher, queries, mode, options.search_rounds)
        lines.append(
            BenchLine(
                benchmark=f"search {mode}: p50 / p95 ms",
                coach=f"{r.p50_ms:.1f} / {r.p95_ms:.1f}",
                detail=f"{r.queries} searches in one process",
            )
        )
    return lines


def grade_lines(settings: Settings, options: BenchOptions) -> list[BenchLine]:
    from coach.bench.grade import bench_grade

    result = asyncio.run(
        bench_grade(
            settings,
            options.answers_file,
            repeat=options.grade_repeat,
            limit=options.llm_limit,
            concurrency=None,
        )
    )
    lines = []
    if r := result.rubric:
        lines.append(
            BenchLine(
                benchmark="rubric grading: answers/s",
                coach=fmt(r.batch_answers_per_second, 1),
                baseline=fmt(r.loop_answers_per_second, 1) + " bare loop",
                ratio=fmt(r.ratio, 2),
                detail=f"{r.answers} answers, concurrency {r.concurrency}",
            )
        )
    if result.llm:
        lines += llm_lines(result.llm)
    return lines


def llm_lines(m: LLMBench) -> list[BenchLine]:
    """The batch against the direct load (the target ratio), then one at a time."""
    lines: list[BenchLine] = []
    if m.skipped or not (m.batch and m.direct):
        reason = (m.skipped or "no figures").removeprefix("LLM part skipped: ")
        lines += _skipped("LLM batch grading: tokens/s", reason)
    else:
        lines.append(
            BenchLine(
                benchmark="LLM batch grading: tokens/s",
                coach=fmt(m.batch.tokens_per_second, 1),
                baseline=fmt(m.direct.tokens_per_second, 1) + " direct load",
                ratio=fmt(m.ratio_batch_to_direct, 2),
                detail=f"{m.model}, {m.answers} answers, concurrency {m.concurrency}; "
                "prompt + completion tokens",
            )
        )
        lines.append(
            BenchLine(
                benchmark="LLM batch grading: completion tokens/s",
                coach=fmt(m.batch.completion_tokens_per_second, 1),
                baseline=fmt(m.direct.completion_tokens_per_second, 1) + " direct load",
                ratio=fmt(m.ratio_completion_batch_to_direct, 2),
                detail="varies with how long the verdicts are",
            )
        )
        if m.sequential:
            lines.append(
                BenchLine(
                    benchmark="LLM one at a time: tokens/s",
                    coach="–",
                    baseline=fmt(m.sequential.tokens_per_second, 1) + " one at a time",
                    ratio=fmt(m.speedup_direct_over_sequential, 2),
                    detail="the same requests replayed sequentially; ratio: direct / this",
                )
            )
    return lines


def serve_lines(settings: Settings, options: BenchOptions) -> list[BenchLine]:
    from coach.bench.serve import bench_pack

    lines = []
    for name in options.serve_packs:
        r = bench_pack(
            name,
            settings,
            max_tokens=128,
            concurrency=8,
            log_dir=settings.paths.vllm_state_dir,
            progress=lambda _message: None,
        )
        lines.append(
            BenchLine(
                benchmark=f"serve {name}: tokens/s",
                coach=f"{r.concurrent_tok_s:.1f} ({r.concurrency} streams)",
                baseline=f"{r.single_stream_tok_s:.1f} (1 stream)",
                ratio=fmt(r.concurrent_tok_s / r.single_stream_tok_s, 2)
                if r.single_stream_tok_s
                else "–",
                detail=f"start-up {r.startup_seconds:.0f} s, memory {r.memory_mb:.0f} MB",
            )
        )
    return lines


def run_benchmarks(
    settings: Settings, options: BenchOptions, say: Callable[[str], None] = print
) -> list[BenchLine]:
    """Run each benchmark in turn; ``say`` reports progress (they take minutes)."""
    steps: list[tuple[str, Callable[[Settings, BenchOptions], list[BenchLine]]]] = [
        ("ingest", ingest_lines),
        ("search", search_lines),
        ("grading", grade_lines),
    ]
    if options.serve_packs:
        steps.append(("serve", serve_lines))
    lines: list[BenchLine] = []
    for name, step in steps:
        say(f"bench {name} ...")
        try:
            lines += step(settings, options)
        except Exception as exc:  # one benchmark's failure must not hide the others' figures
            lines += _skipped(name, exc)
    return lines


def render(lines: list[BenchLine]) -> str:
    return text_table(HEADERS, [line.row() for line in lines], left=(0, len(HEADERS) - 1))
