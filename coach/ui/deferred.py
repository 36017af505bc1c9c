"""The grader and the searcher as an interview starts: the real ones once loaded, loaded
on first use otherwise.

Why: Start waited for the grader's and the index's models (loading in the background
since `coach ui` started, `ui.warm_up`), so a candidate who clicked Start at once saw the
first question 6.7 s later (issue 30 asks for 2 s). The first question needs neither;
by the time an answer is submitted the warm-up has usually finished.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any


class Deferred:
    """Every attribute of ``load()``'s object, loaded on the first attribute asked for
    (``load`` caches: AppServices builds each object once)."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load

    def __getattr__(self, name: str) -> Any:
        return getattr(self._load(), name)


class DeferredGrader(Deferred):
    """A grader whose models load in a worker thread on the first grade, so the event
    loop (every other browser session) does not wait for them."""

    async def astages(self, question: str, answer: str, **options: Any) -> AsyncIterator[Any]:
        grader = await asyncio.to_thread(self._load)
        async for stage in grader.astages(question, answer, **options):
            yield stage
