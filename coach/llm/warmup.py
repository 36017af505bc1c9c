"""The request shapes the coach sends, sent once when a server starts.

Why: on a CPU server the first request of a kind pays one-off costs (the JSON-schema
grammar of the judge compiles in about 20 s; the first log-probability and generation
requests allocate their buffers), and without a warm-up the first candidate of the day
waits for them. Plain HTTP with the same bodies the grader builds, so the warm-up needs
no LangChain model and cannot drift from what grading sends.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx

from coach.config import Settings
from coach.llm.judge_schema import response_format

WARMUP_TEXT = "0"
"""A one-token message: the warm-up is about the request's kind, not its length."""


def warmup_bodies(model: str, settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    """(what, request body) per kind of request the configured grading mode sends."""
    message = [{"role": "user", "content": WARMUP_TEXT}]
    bodies: list[tuple[str, dict[str, Any]]] = [
        (
            "a streamed question",
            {"model": model, "messages": message, "max_tokens": 2, "stream": False},
        ),
        (
            "a log-probability score",
            {
                "model": model,
                "messages": message,
                "max_tokens": settings.grading.scorer_max_tokens,
                "logprobs": True,
                "top_logprobs": settings.grading.scorer_top_logprobs,
            },
        ),
    ]
    if settings.grading.llm_mode == "judge":
        bodies.append(
            (
                "a JSON-schema verdict (grammar compiled)",
                {
                    "model": model,
                    "messages": message,
                    "max_tokens": 8,
                    "response_format": response_format(),
                },
            )
        )
    return bodies


def warm_up(base_url: str, model: str, settings: Settings) -> Iterator[str]:
    """Send each warm-up request; yield one line per request saying how long it took."""
    url = base_url.rstrip("/") + "/chat/completions"
    with httpx.Client(timeout=settings.vllm.start_timeout) as client:
        for what, body in warmup_bodies(model, settings):
            started = time.perf_counter()
            try:
                client.post(url, json=body).raise_for_status()
            except httpx.HTTPError as exc:
                yield f"warm-up: {what} failed ({type(exc).__name__}: {exc}); carrying on"
                continue
            yield f"warm-up: {what} in {time.perf_counter() - started:.1f} s"
