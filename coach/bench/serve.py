"""Serving benchmark: per LLM pack, what it costs (install, disk, memory, start-up) and
how fast it answers (one stream, and N concurrent streams).

Why these figures: they decide which pack a machine can afford as the judge. Generation
runs with ``ignore_eos`` so every request produces exactly ``max_tokens`` tokens and the
rates compare across packs; the first request warms the server up and is not counted.
Memory is the proportional set size (PSS) summed over the server's process group, so
pages the API, engine and worker processes share are counted once.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from openai import AsyncOpenAI
from pydantic import BaseModel

from coach.config import Settings
from coach.llm.server import VLLMServer, free_port
from coach.packs.base import MARKER, Progress, dir_size, get_pack, install
from coach.prompts import load_prompt

PROMPT_NAME = "bench_serve.md"
FALLBACK_PROMPT = "Explain, step by step and in detail, how a transformer language model works."


class ServeBench(BaseModel):
    pack: str
    dtype: str
    """What the server ran in (``vllm_dtype`` resolved for this CPU)."""
    build_seconds: float | None
    """Conversion time recorded in pack.json when the pack was built (pip download excluded)."""
    disk_mb: float
    startup_seconds: float
    memory_mb: float
    """PSS of the server's process group once ready (model + KV cache + runtime)."""
    max_tokens: int
    single_stream_tok_s: float
    concurrency: int
    concurrent_tok_s: float
    """Completion tokens of all concurrent requests / wall time of the batch."""
    concurrent_latency_s: float
    prefill_tokens: int = 0
    """Prompt tokens of the prefill probe (a fresh prompt each time: no prefix cache)."""
    prefill_tok_s: float = 0.0
    """Prompt tokens / time of a request that generates one token."""


def group_pss_mb(pgid: int) -> float:
    """Sum of PSS over every process in group ``pgid`` (Linux /proc)."""
    total_kb = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # fields after comm: state, ppid, pgrp, ...
                continue
            for line in (stat.parent / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return round(total_kb / 1024, 1)


def bench_prompt() -> str:
    try:
        return load_prompt(PROMPT_NAME).strip()
    except OSError:
        return FALLBACK_PROMPT


async def _complete(client: AsyncOpenAI, model: str, prompt: str, max_tokens: int) -> int:
    response = await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": prompt}],
        max_tokens=max_tokens,
        temperature=0,
        extra_body={"ignore_eos": True},
    )
    return response.usage.completion_tokens if response.usage else 0


async def measure_prefill(
    client: AsyncOpenAI, model: str, repeats: int, rounds: int = 2
) -> tuple[int, float]:
    """(prompt tokens, best prompt tokens/s over ``rounds``) for a prompt that only
    prefills: one generated token. Each round's prompt starts with its own number, so
    vLLM's prefix cache cannot serve it."""
    best, tokens = 0.0, 0
    for n in range(rounds):
        prompt = f"[{n}-{time.time_ns()}] " + " ".join([bench_prompt()] * repeats)
        started = time.perf_counter()
        response = await client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": prompt}],
            max_tokens=1,
            temperature=0,
        )
        seconds = time.perf_counter() - started
        tokens = response.usage.prompt_tokens if response.usage else 0
        best = max(best, tokens / seconds)
    return tokens, round(best, 1)


async def measure_rates(
    base_url: str,
    model: str,
    max_tokens: int,
    concurrency: int,
    timeout: float,
    prefill_repeats: int = 8,
) -> tuple[float, float, float, int, float]:
    """(single-stream tok/s, concurrent tok/s, concurrent batch seconds, prefill prompt
    tokens, prefill tok/s)."""
    prompt = bench_prompt()
    async with AsyncOpenAI(base_url=base_url, api_key="EMPTY", timeout=timeout) as client:
        await _complete(client, model, prompt, 8)  # warm-up
        prefill_tokens, prefill = await measure_prefill(client, model, prefill_repeats)
        started = time.perf_counter()
        tokens = await _complete(client, model, prompt, max_tokens)
        single = tokens / (time.perf_counter() - started)
        started = time.perf_counter()
        counts = await asyncio.gather(
            *(_complete(client, model, prompt, max_tokens) for _ in range(concurrency))
        )
        batch = time.perf_counter() - started
    return round(single, 1), round(sum(counts) / batch, 1), round(batch, 1), prefill_tokens, prefill


def bench_pack(
    name: str,
    settings: Settings,
    *,
    max_tokens: int,
    concurrency: int,
    log_dir: Path,
    progress: Progress,
    dtype: str | None = None,
) -> ServeBench:
    """Install ``name`` if needed, start a private server (in ``dtype``, default the
    configured one), measure, stop it."""
    from coach.llm.server import server_dtype

    if dtype is not None:
        settings = settings.model_copy(update={"vllm_dtype": dtype})
    pack_path = install(get_pack(name), settings.paths.models_dir, progress)
    marker = json.loads((pack_path / MARKER).read_text(encoding="utf-8"))
    server = VLLMServer(
        settings,
        name,
        port=free_port(settings.vllm.host),
        log_path=log_dir / f"bench-{name}-{server_dtype(settings)}.log",
        record=False,
        progress=progress,
    )
    with server:
        assert server.proc is not None
        memory = group_pss_mb(server.proc.pid)
        single, concurrent, batch, prefill_tokens, prefill = asyncio.run(
            measure_rates(server.base_url, name, max_tokens, concurrency, settings.llm.timeout * 4)
        )
    return ServeBench(
        pack=name,
        dtype=server_dtype(settings),
        prefill_tokens=prefill_tokens,
        prefill_tok_s=prefill,
        build_seconds=marker.get("build_seconds"),
        disk_mb=round(dir_size(pack_path) / 1e6, 1),
        startup_seconds=server.startup_seconds or 0.0,
        memory_mb=memory,
        max_tokens=max_tokens,
        single_stream_tok_s=single,
        concurrency=concurrency,
        concurrent_tok_s=concurrent,
        concurrent_latency_s=batch,
    )
