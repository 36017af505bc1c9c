"""Retries of a model call: which errors are worth another try, and how long to wait.

Why one place: the judge and the scorer retry the same transient failures (the server
restarting, a dropped connection, a timeout) with the same backoff, and each retry is
logged, so a slow grade in a log says why it was slow. Errors that another try cannot
fix (a bad request, a wrong model name) are not retried.
"""

from __future__ import annotations

import logging

import httpx
import openai
from tenacity import (
    AsyncRetrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    openai.APIConnectionError,  # includes APITimeoutError
    openai.InternalServerError,
    openai.RateLimitError,
    httpx.TransportError,
    TimeoutError,
)
MAX_WAIT_S = 30.0
"""The longest pause between two tries, whatever the backoff grows to."""


def retrying(attempts: int, backoff: float, logger: logging.Logger) -> AsyncRetrying:
    """Up to ``attempts`` tries of a transient failure, exponential waits starting at
    ``backoff`` seconds; each retry is logged to ``logger`` at WARNING; the last error is
    raised as itself (``reraise``), so callers catch the server's own exception."""
    return AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=backoff, max=MAX_WAIT_S),
        retry=retry_if_exception_type(TRANSIENT_ERRORS),
        before_sleep=before_sleep_log(logger, logging.WARNING),
        reraise=True,
    )
