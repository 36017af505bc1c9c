"""The ``coach bench`` group: speed figures, printed, never asserted.

Each command is a thin shell over coach.bench (imported only when it runs): it reads the
options, calls the benchmark and formats its figures. ``coach bench`` alone runs them all
(``coach bench all``) into one table.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from coach.cli.output import fail, print_json, serve_progress
from coach.config import get_settings

if TYPE_CHECKING:
    from coach.bench.grade import GradeBench, LLMBench

EVAL_DIR = Path("eval")

app = typer.Typer(help="Measure speed; prints figures, asserts nothing.")


@app.command("ingest")
def bench_ingest_cmd(
    paths: Annotated[list[Path] | None, typer.Argument(help="Default: COACH_CORPUS_PATHS.")] = None,
    rounds: Annotated[
        int, typer.Option(min=1, help="Ingest/encode pairs; the best of each is compared.")
    ] = 2,
) -> None:
    """Ingest wall time against a bare encode of the same texts (wall_ratio), embedding
    throughput (ratio), and the seconds of each ingest step (stages)."""
    from coach.bench.index import bench_ingest

    settings = get_settings()
    result = bench_ingest(settings, list(paths or settings.paths.corpus_paths), rounds)
    print_json(result.model_dump())


@app.command("search")
def bench_search_cmd(
    cases: Annotated[Path, typer.Option(help="Queries to time.")] = EVAL_DIR / "retrieval.jsonl",
    rounds: Annotated[int, typer.Option(min=1)] = 3,
) -> None:
    """p50/p95 latency of search inside one process, per retriever."""
    from coach.bench.index import bench_search
    from coach.evaluation.retrieval import load_cases
    from coach.index.retriever import HybridSearcher

    searcher = HybridSearcher(get_settings())
    queries = [c.query for c in load_cases(cases)]
    for mode in ("bm25", "dense", "hybrid"):
        r = bench_search(searcher, queries, mode, rounds)  # type: ignore[arg-type]
        typer.echo(
            f"{mode:<8} p50 {r.p50_ms:7.1f} ms  p95 {r.p95_ms:7.1f} ms  ({r.queries} searches)"
        )


@app.command("grade")
def bench_grade(
    input_path: Annotated[
        Path, typer.Option("--input", help="Batch file of answers (CSV/JSONL/XLSX).")
    ] = EVAL_DIR / "sample_answers.csv",
    repeat: Annotated[
        int, typer.Option(min=1, help="Rubric part: grade each answer this many times.")
    ] = 5,
    limit: Annotated[
        int | None, typer.Option(min=1, help="LLM part: grade only the first N answers.")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Default: COACH_BATCH_CONCURRENCY.")
    ] = None,
    rubric: Annotated[bool, typer.Option("--rubric/--no-rubric", help="Run part (a).")] = True,
    llm: Annotated[
        bool, typer.Option("--llm/--no-llm", help="Run part (b); skipped if no server answers.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Batch grading speed: rubric answers/s, and LLM tokens/s vs a direct load."""
    from coach.batch.models import BatchError
    from coach.bench.grade import bench_grade as run_bench

    try:
        result = asyncio.run(
            run_bench(
                get_settings(),
                input_path,
                repeat=repeat,
                limit=limit,
                concurrency=concurrency,
                rubric=rubric,
                llm=llm,
            )
        )
    except BatchError as exc:
        fail(str(exc))
    if as_json:
        print_json(result.model_dump())
        return
    _echo_grade_bench(result)


def _echo_grade_bench(result: GradeBench) -> None:
    """The rubric figures, then the LLM's (or why they were skipped)."""
    if r := result.rubric:
        typer.echo(
            f"rubric only: {r.answers} answers, concurrency {r.concurrency}: batch "
            f"{r.batch_answers_per_second:.1f} answers/s ({r.batch_seconds:.2f} s; "
            f"{r.end_to_end_seconds:.2f} s with output and report), bare loop "
            f"{r.loop_answers_per_second:.1f} answers/s; ratio {r.ratio:.2f}"
        )
    if m := result.llm:
        if m.skipped:
            typer.echo(m.skipped)
            return
        _echo_llm_bench(m)


def _echo_llm_bench(m: LLMBench) -> None:
    """One line per load (batch, direct, one at a time), then the ratios between them."""
    from coach.evaluation.report import fmt

    typer.echo(f"LLM: {m.model} at {m.base_url}, {m.answers} answers, concurrency {m.concurrency}")
    for load in (m.batch, m.direct, m.sequential):
        if load:
            typer.echo(
                f"  {load.mode:<11}{load.requests:>4} requests {load.seconds:8.1f} s  "
                f"prompt {load.prompt_tokens:>6}  completion {load.completion_tokens:>6}  "
                f"{load.tokens_per_second:6.1f} tokens/s "
                f"({load.completion_tokens_per_second:.1f} completion)"
                + (f"  ({load.failed} failed)" if load.failed else "")
                + f"  {load.answers_per_hour:.0f} requests/h"
                + (
                    f", median request {load.median_request_seconds:.1f} s"
                    if load.median_request_seconds is not None
                    else ""
                )
            )
    if m.ratio_batch_to_direct is not None:
        completion_only = fmt(m.ratio_completion_batch_to_direct, 2)
        typer.echo(
            f"  batch / direct: {m.ratio_batch_to_direct:.2f} (target >= 0.9; prompt + "
            f"completion tokens/s; completion alone {completion_only})"
        )
    if m.speedup_direct_over_sequential is not None:
        typer.echo(f"  direct / one-at-a-time: {m.speedup_direct_over_sequential:.2f}x")
    for note in m.notes:
        typer.echo(f"  note: {note}")


@app.command("serve")
def bench_serve(
    packs: Annotated[
        list[str] | None, typer.Argument(help="LLM packs to measure. Default: smollm2-135m.")
    ] = None,
    max_tokens: Annotated[int, typer.Option(min=1, help="Tokens generated per request.")] = 128,
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in the concurrent batch.")] = 8,
    dtypes: Annotated[
        list[str] | None,
        typer.Option(
            "--dtype",
            help="Serve in this dtype (repeat to compare, e.g. --dtype bfloat16 --dtype "
            "float32). Default: COACH_VLLM_DTYPE.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Per pack and dtype, one at a time: disk, start-up, memory, prefill and decode tok/s
    (one stream and concurrent)."""
    from coach.bench.serve import bench_pack
    from coach.llm.server import ServerError
    from coach.packs.base import PackError

    settings = get_settings()
    results = []
    for name in packs or ["smollm2-135m"]:
        for dtype in dtypes or [None]:
            try:
                result = bench_pack(
                    name,
                    settings,
                    max_tokens=max_tokens,
                    concurrency=concurrency,
                    log_dir=settings.paths.vllm_state_dir,
                    progress=serve_progress,
                    dtype=dtype,
                )
            except (PackError, ServerError) as exc:
                fail(str(exc))
            results.append(result)
            if not as_json:
                r = result
                typer.echo(
                    f"{r.pack:<20} {r.dtype:<9} disk {r.disk_mb:6.0f} MB  "
                    f"start-up {r.startup_seconds:6.1f} s  memory {r.memory_mb:7.0f} MB  "
                    f"prefill {r.prefill_tok_s:6.1f} tok/s ({r.prefill_tokens} tokens)  "
                    f"decode 1 stream {r.single_stream_tok_s:5.1f} tok/s, {r.concurrency} "
                    f"streams {r.concurrent_tok_s:5.1f} tok/s ({r.concurrent_latency_s:.1f} s)"
                )
    if as_json:
        print_json([r.model_dump() for r in results], ensure_ascii=True)


@app.callback(invoke_without_command=True)
def bench_default(ctx: typer.Context) -> None:
    """Measure speed; prints figures, asserts nothing. Without a subcommand: all of them."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(bench_all)


@app.command("all")
def bench_all(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Corpus to ingest. Default: COACH_CORPUS_PATHS.")
    ] = None,
    answers: Annotated[
        Path | None,
        typer.Option(help="Batch file to grade. Default: <COACH_EVAL_DIR>/sample_answers.csv."),
    ] = None,
    llm_limit: Annotated[
        int | None, typer.Option(min=1, help="LLM grading benchmark: first N answers only.")
    ] = None,
    serve: Annotated[
        list[str] | None,
        typer.Option(help="Also benchmark serving this LLM pack (starts a server; repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ingest vs bare encode, search p50/p95, rubric answers/s, LLM batch vs direct load."""
    from coach.bench.suite import BenchOptions, render, run_benchmarks

    settings = get_settings()
    options = BenchOptions(
        paths=list(paths or settings.paths.corpus_paths),
        queries_file=settings.paths.eval_dir / "retrieval.jsonl",
        answers_file=answers or settings.paths.eval_dir / "sample_answers.csv",
        llm_limit=llm_limit,
        serve_packs=serve or [],
    )
    say = (lambda m: typer.echo(m, err=True)) if as_json else typer.echo
    lines = run_benchmarks(settings, options, say)
    if as_json:
        print_json([line.model_dump() for line in lines], ensure_ascii=True)
        return
    typer.echo(render(lines))


@app.command("interview")
def bench_interview(
    turns: Annotated[int, typer.Option(min=1, help="Answers each candidate submits.")] = 4,
    topic: Annotated[str | None, typer.Option(help="Only this topic.")] = None,
    users: Annotated[
        list[int] | None,
        typer.Option(
            "--users",
            min=1,
            help="Candidates interviewing at the same time; repeat to compare "
            "(--users 1 --users 2 --users 4). Default: 1.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Time to the question and the follow-up on screen, to the provisional and final
    grade, and to the model's advice and stronger answer, per turn; with several
    candidates at once, for each."""
    from coach.bench.interview import bench_interview as run

    settings = get_settings()
    results = []
    for n in users or [1]:
        result = asyncio.run(run(settings, turns=turns, topic=topic, users=n))
        results.append(result)
        if as_json:
            continue
        typer.echo(f"model {result.model} at {result.base_url}, {n} candidate(s) at once")
        for q in result.questions:
            again = f"  the model's phrasing at {q.complete_s:.2f}s" if q.revised else ""
            typer.echo(
                f"user {q.user} turn {q.turn} {q.kind:<9} on screen {q.visible_s:.2f}s{again}"
            )
        for g in result.grades:
            flags = f"  flags {','.join(g.flags)}" if g.flags else ""
            first = "" if g.first_grade_s is None else f"rubric grade {g.first_grade_s:.2f}s  "
            typer.echo(
                f"user {g.user} turn {g.turn} {first}final grade {g.grade_s:.2f}s  "
                f"score {g.score:.1f}{flags}"
            )
        for w in result.writing:
            words = "-" if w.first_words_s is None else f"{w.first_words_s:.2f}s"
            typer.echo(
                f"user {w.user} turn {w.turn} {w.kind:<9} first words {words}  "
                f"all {w.complete_s:.2f}s  ({w.chars} characters)"
            )
        typer.echo(json.dumps(result.summary()))
    if as_json:
        payload = [{**r.model_dump(), "summary": r.summary()} for r in results]
        print_json(payload, ensure_ascii=True)


@app.command("voice")
def bench_voice_cmd(
    answers: Annotated[
        Path,
        typer.Option(help="JSONL of {file, card_id, question, key_terms, text}, files beside it."),
    ] = EVAL_DIR / "voice" / "answers.jsonl",
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Speech to text: character error rate without and with the question as the prompt,
    real-time factor and peak memory (needs the voice extra and the whisper-base pack)."""
    from coach.bench.voice import bench_voice
    from coach.speech.transcriber import Transcriber, VoiceUnavailable

    settings = get_settings()
    try:
        Transcriber(settings).check_available()
    except VoiceUnavailable as exc:
        fail(str(exc))
    if not answers.is_file():
        fail(f"{answers}: no such set; run from the repository root or pass --answers.")

    def show(run) -> None:
        if not as_json:
            mode = "prompt" if run.prompted else "plain "
            typer.echo(
                f"{run.file:<22} {mode} CER {run.cer:.3f}  {run.audio_s:5.1f}s audio "
                f"in {run.seconds:5.2f}s"
                + (f"  problems {','.join(run.problems)}" if run.problems else "")
            )

    result = bench_voice(settings, answers, on_run=show)
    if as_json:
        print_json(result.model_dump())
        return
    typer.echo(
        f"{result.recordings} recordings, {result.audio_s:.0f}s of audio: CER "
        f"{result.cer_without_prompt:.3f} without the prompt, {result.cer_with_prompt:.3f} "
        f"with it; real-time factor {result.real_time_factor:.2f}; "
        f"peak RSS {result.peak_rss_mb:.0f} MB"
    )
