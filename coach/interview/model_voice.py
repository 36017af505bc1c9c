"""The interview's one way to the chat model: stream a reply, notice once that the model
is down, phrase one question within a time bound, and learn whether live phrasing is fast
enough to be worth asking for at all.

Why one object for this: the engine, the coaching (advice, stronger answers) and ask-the-
coach all stream from the same model and must fail the same way: a failed call yields its
message once, the session carries on without the model, and the candidate is told once.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate

from coach.config import Settings
from coach.interview.checks import usable_question
from coach.interview.models import Event
from coach.llm.client import unavailable_message

logger = logging.getLogger(__name__)


def model_failure(exc: BaseException, settings: Settings) -> str:
    """The message for a failed model call: the standard 'server unreachable' text when
    it is a connection problem (what the user can fix), else the error itself."""
    name = type(exc).__name__
    if any(key in name for key in ("Connection", "Timeout", "Unavailable", "Connect")):
        return unavailable_message(settings, name)
    return f"The model failed ({name}: {exc}); coach carries on without it."


@dataclass
class PhrasingSpeed:
    """How long the model took to phrase the process's first questions (seconds; a call
    cut off by its window counts as the window plus one second). Shared by every session
    of a process: once the first ``samples`` calls say the model cannot phrase within the
    window, no session asks it again (on a 2-core CPU it needed 7-14 s for a question)."""

    samples: int
    durations: list[float] = field(default_factory=list)

    def record(self, seconds: float) -> None:
        if len(self.durations) < self.samples:
            self.durations.append(seconds)

    def too_slow(self, window: float) -> bool:
        if len(self.durations) < self.samples:
            return False
        return statistics.median(self.durations) > window


class ModelVoice:
    """One session's access to the chat model (None: no model at all)."""

    def __init__(
        self,
        settings: Settings,
        chat_model: BaseChatModel | None,
        language: str,
        speed: PhrasingSpeed | None = None,
    ) -> None:
        self.settings = settings
        self.chat_model = chat_model
        self.language = language
        self.speed = speed or PhrasingSpeed(settings.interview.live_phrasing_samples)
        self.down = chat_model is None
        self._told_down = False

    def ready(self) -> bool:
        return self.chat_model is not None and not self.down

    def carry_on_without(self) -> None:
        """Run without the model and do not say so again (the caller already told)."""
        self.down = True
        self._told_down = True

    def tell_down(self, failure: str | None) -> list[Event]:
        """Say once per session that the model is unavailable ('' = no model at all)."""
        if self._told_down or failure == "":
            return []
        self._told_down = True
        return [Event(kind="notice", text=failure or unavailable_message(self.settings))]

    async def stream(
        self,
        prompt: ChatPromptTemplate,
        values: dict[str, str],
        max_tokens: int,
        stop: list[str] | None = None,
    ) -> AsyncIterator[tuple[str, str | None]]:
        """Yield (text so far, None) per chunk; on failure one ("", message) and stop."""
        model = self.chat_model
        if model is None or self.down:
            yield "", ""
            return
        try:
            options: dict[str, object] = {"stop": stop} if stop else {}
            if "max_tokens" in type(model).model_fields:
                options["max_tokens"] = max_tokens
            bound = model.bind(**options) if options else model
            text = ""
            async for chunk in (prompt | bound).astream(values):
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if piece:
                    text += piece
                    yield text, None
        except Exception as exc:  # any model failure: carry on without the model
            logger.warning(
                "The chat model failed (%s: %s); the interview goes on without it",
                type(exc).__name__,
                exc,
            )
            if "Connection" in type(exc).__name__ or "Timeout" in type(exc).__name__:
                self.down = True
            yield "", model_failure(exc, self.settings)

    def may_phrase(self, window: float) -> bool:
        """Worth asking the model to phrase a question: it is up, a window is set, and
        the process's first phrasings came within that window."""
        return window > 0 and self.ready() and not self.speed.too_slow(window)

    async def phrase(
        self,
        prompt: ChatPromptTemplate,
        values: dict[str, str],
        *,
        window: float,
        source: str | None,
        must_mention: str | None,
    ) -> tuple[str | None, list[Event]]:
        """The model's phrasing of one question if a usable one comes within ``window``
        seconds (the request is cancelled otherwise: vLLM stops when the client goes),
        and the notices a failure left."""
        notices: list[Event] = []
        started = time.monotonic()
        try:
            text = await asyncio.wait_for(
                self._phrased(prompt, values, source, must_mention, notices), timeout=window
            )
            self.speed.record(time.monotonic() - started)
        except TimeoutError:
            logger.debug("no usable phrasing within %g s: the shown text stays", window)
            self.speed.record(window + 1.0)
            text = None
        return text, notices

    async def _phrased(
        self,
        prompt: ChatPromptTemplate,
        values: dict[str, str],
        source: str | None,
        must_mention: str | None,
        notices: list[Event],
    ) -> str | None:
        """A question is one line (the model stops at the first line break) and must pass
        ``usable_question``; a failure's notice goes to ``notices`` so that it survives
        when the time bound cancels this coroutine."""
        limit = self.settings.interview.question_max_chars
        text = ""
        async for partial, failure in self.stream(
            prompt, values, self.settings.interview.chat_max_tokens, stop=["\n"]
        ):
            if failure is not None:
                notices.extend(self.tell_down(failure))
                return None
            text = partial
            if len(text) > limit:
                break  # already too long to be one question: stop waiting for it
        text = text.strip().strip('"“”').strip()
        ok = usable_question(
            text,
            source=source or "",
            max_chars=limit,
            min_overlap=self.settings.interview.question_min_overlap if source else 0.0,
            language=self.language,
            must_mention=must_mention,
        )
        if not ok:
            logger.debug("the model's phrasing %r is unusable: the shown text stays", text[:80])
        return text if ok else None
