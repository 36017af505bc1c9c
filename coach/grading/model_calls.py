"""What the judge and the scorer share as callers of the model server.

Both build their chat model only when first used (a grade without the LLM never
connects), and both stop asking for ``grading.judge_cooldown`` seconds after a failed call,
so a batch of 10,000 rows does not wait for 10,000 timeouts while the server is down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from coach.config import Settings
from coach.llm.retry import TRANSIENT_ERRORS

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)


class CoolingModelCaller:
    def __init__(
        self,
        settings: Settings,
        build: Callable[[Settings], BaseChatModel],
        chat_model: BaseChatModel | None = None,
    ) -> None:
        self.settings = settings
        self._build = build
        self._model = chat_model
        self._down_until = 0.0

    @property
    def model(self) -> BaseChatModel:
        if self._model is None:
            self._model = self._build(self.settings)
        return self._model

    @property
    def resting(self) -> bool:
        """The server failed less than a cooldown ago: do not ask it now."""
        return time.monotonic() < self._down_until

    def failed(self, who: str, fallback: str, exc: Exception) -> str:
        """Log the failure, start the cooldown, and return the note for the grade."""
        from coach.llm.client import unavailable_message

        cooldown = self.settings.grading.judge_cooldown
        logger.warning(
            "The %s's model call failed (%s: %s); graded by the %s alone for the next %g s",
            who,
            type(exc).__name__,
            exc,
            fallback,
            cooldown,
            exc_info=not isinstance(exc, TRANSIENT_ERRORS),
        )
        self._down_until = time.monotonic() + cooldown
        return unavailable_message(self.settings, f"{type(exc).__name__}: {exc}")
