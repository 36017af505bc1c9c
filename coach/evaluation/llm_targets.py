"""Which models an evaluation grades with, and why any is skipped.

Why its own step: evaluation reports rubric-only figures always, and figures per model
only for models a server actually serves; a model that cannot be reached becomes a
"skipped, because ..." line in the report instead of silently falling back to the
rubric (the grader's fallback would pass rubric figures off as the model's).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from coach.config import Settings


class LLMTargets(BaseModel):
    settings: list[Settings] = Field(default_factory=list)
    """One copy of the settings per model to grade with (``llm_model`` set)."""
    skipped: list[str] = Field(default_factory=list)


def llm_targets(settings: Settings, use_llm: bool) -> LLMTargets:
    """``eval_llm_models`` (default: the configured ``llm_model``) that the server lists."""
    from coach.llm.client import ModelServerUnavailable, list_models

    wanted = settings.evaluation.llm_models or [settings.llm.model]
    if not use_llm:
        return LLMTargets(skipped=[f"rubric + LLM ({', '.join(wanted)}): skipped (--no-llm)."])
    try:
        served = list_models(settings)
    except ModelServerUnavailable as exc:
        return LLMTargets(
            skipped=[
                f"rubric + LLM ({', '.join(wanted)}): skipped, the model server is not "
                f"reachable. {exc}"
            ]
        )
    targets = LLMTargets()
    for model in wanted:
        if model in served:
            targets.settings.append(settings.model_copy(update={"llm_model": model}))
        else:
            targets.skipped.append(
                f"rubric + LLM ({model}): skipped, {settings.llm.base_url} does not serve it "
                f"(it serves: {', '.join(served) or 'nothing'})."
            )
    return targets
