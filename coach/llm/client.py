"""The one place that builds a chat model, so every caller gets the same base URL,
timeouts, retries and error message when the server is down."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import httpx
from langchain_openai import ChatOpenAI

from coach.config import Settings, get_settings


class ModelServerUnavailable(RuntimeError):
    """The OpenAI-compatible server did not answer; the message names the fix."""


def unavailable_message(settings: Settings, detail: str = "") -> str:
    return (
        f"The model server at {settings.llm.base_url} is not reachable"
        + (f" ({detail})" if detail else "")
        + ". Start it with `coach serve-model` (or set COACH_LLM_BASE_URL to a running "
        "OpenAI-compatible server); grading still works without it using --no-llm."
    )


def list_models(settings: Settings | None = None, timeout: float | None = None) -> list[str]:
    """Model names the server serves; raises ModelServerUnavailable when it does not answer."""
    settings = settings or get_settings()
    url = settings.llm.base_url.rstrip("/") + "/models"
    try:
        response = httpx.get(
            url,
            headers={"Authorization": f"Bearer {settings.llm.api_key}"},
            timeout=timeout or settings.llm.health_timeout,
        )
        response.raise_for_status()
        return [m["id"] for m in response.json().get("data", [])]
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise ModelServerUnavailable(
            unavailable_message(settings, f"{type(exc).__name__}: {exc}")
        ) from exc


def check_server(settings: Settings | None = None) -> None:
    """Raise ModelServerUnavailable unless the server answers and serves ``llm_model``."""
    settings = settings or get_settings()
    served = list_models(settings)
    if settings.llm.model not in served:
        raise ModelServerUnavailable(
            f"The model server at {settings.llm.base_url} serves {served or 'no models'}, "
            f"not {settings.llm.model!r}; set COACH_LLM_MODEL to one of those, or start "
            f"`coach serve-model {settings.llm.model}`."
        )


class PerLoopAsyncClient(httpx.AsyncClient):
    """An async HTTP client that is safe to share between event loops.

    Why: an httpx connection belongs to the event loop that opened it, and langchain-openai
    caches one default async client per base URL for the whole process. coach runs
    several loops (``asyncio.run`` per CLI grade or batch, Gradio's own loop, test
    fixtures), so the second loop to reuse a pooled connection failed with "Event loop
    is closed" and grading silently fell back to the rubric. Each loop gets its own
    client here; a loop's client goes when the loop is garbage-collected.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._kwargs = kwargs
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._by_loop = weakref.WeakKeyDictionary()

    def _for_running_loop(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._by_loop.get(loop)
        if client is None:
            client = self._by_loop[loop] = httpx.AsyncClient(**self._kwargs)
        return client

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        return await self._for_running_loop().send(request, **kwargs)

    async def aclose(self) -> None:
        client = self._by_loop.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
        await super().aclose()


def make_chat_model(settings: Settings | None = None, **overrides: Any) -> ChatOpenAI:
    """A LangChain chat model for the configured server (temperature 0 and a seed, so a
    rerun grades the same answer the same way)."""
    settings = settings or get_settings()
    params: dict[str, Any] = {
        "base_url": settings.llm.base_url,
        "api_key": settings.llm.api_key,
        "model": settings.llm.model,
        "temperature": settings.llm.temperature,
        "seed": settings.llm.seed,
        "timeout": settings.llm.timeout,
        "max_retries": settings.llm.max_retries,
        "max_tokens": settings.llm.max_tokens,
    }
    params.update(overrides)
    if "http_async_client" not in params:
        params["http_async_client"] = PerLoopAsyncClient(timeout=params["timeout"])
    return ChatOpenAI(**params)
