"""The chat model a plan's writers share, made on first use.

Why one place: the planner, the question writer and the résumé writer each need the
served model with the plan's limits (``plan.llm_*``) or a model a test hands in, and
none should open an HTTP client when the plan runs without the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.config import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


def plan_model(settings: Settings) -> BaseChatModel:
    """The chat model for the plan's calls, with the plan's limits."""
    from coach.llm.client import make_chat_model

    s = settings.plan
    return make_chat_model(
        settings, max_tokens=s.llm_max_tokens, timeout=s.llm_timeout, temperature=s.llm_temperature
    )


class UsesPlanModel:
    """``model`` and ``model_name`` for a class holding ``settings`` and ``_model`` (the
    model handed in, or None to make the served one on first use)."""

    settings: Settings
    _model: BaseChatModel | None

    @property
    def model(self) -> BaseChatModel:
        if self._model is None:
            self._model = plan_model(self.settings)
        return self._model

    @property
    def model_name(self) -> str:
        return str(getattr(self.model, "model_name", "") or self.settings.llm.model)
