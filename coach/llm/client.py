"""The one place that builds a chat model, so every caller gets the same base URL,
timeouts, retries and error message when the server is down."""

from __future__ import annotations

from typing import Any

import httpx
from langchain_openai import ChatOpenAI

from coach.config import Settings, get_settings


class ModelServerUnavailable(RuntimeError):
    """The OpenAI-compatible server did not answer; the message names the fix."""


def unavailable_message(settings: Settings, detail: str = "") -> str:
    return (
        f"The model server at {settings.llm_base_url} is not reachable"
        + (f" ({detail})" if detail else "")
        + ". Start it with `coach serve-model` (or set COACH_LLM_BASE_URL to a running "
        "OpenAI-compatible server); grading still works without it using --no-llm."
    )


def list_models(settings: Settings | None = None, timeout: float | None = None) -> list[str]:
    """Model names the server serves; raises ModelServerUnavailable when it does not answer."""
    settings = settings or get_settings()
    url = settings.llm_base_url.rstrip("/") + "/models"
    try:
        response = httpx.get(
            url,
            headers={"Authorization": f"Bearer {settings.llm_api_key}"},
            timeout=timeout or settings.llm_health_timeout,
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
    if settings.llm_model not in served:
        raise ModelServerUnavailable(
            f"The model server at {settings.llm_base_url} serves {served or 'no models'}, "
            f"not {settings.llm_model!r}; set COACH_LLM_MODEL to one of those, or start "
            f"`coach serve-model {settings.llm_model}`."
        )


def make_chat_model(settings: Settings | None = None, **overrides: Any) -> ChatOpenAI:
    """A LangChain chat model for the configured server (temperature 0 and a seed, so a
    rerun grades the same answer the same way)."""
    settings = settings or get_settings()
    params: dict[str, Any] = {
        "base_url": settings.llm_base_url,
        "api_key": settings.llm_api_key,
        "model": settings.llm_model,
        "temperature": settings.llm_temperature,
        "seed": settings.llm_seed,
        "timeout": settings.llm_timeout,
        "max_retries": settings.llm_max_retries,
        "max_tokens": settings.llm_max_tokens,
    }
    params.update(overrides)
    return ChatOpenAI(**params)
