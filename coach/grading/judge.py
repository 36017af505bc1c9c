"""The LLM judge: asks the model for a per-point verdict as JSON, validates it, repairs
it once, and reports (never raises) when the server is down or the reply is junk.

Why hand-rolled structured output instead of ``with_structured_output``: the JSON schema
goes to vLLM in the request body (``response_format: json_schema``, which vLLM enforces
with guided decoding), the reply is validated here with pydantic, and the same code path
runs with LangChain's fake chat models in tests. A ``max_tokens`` cut leaves invalid
JSON even under guided decoding, hence the one repair retry.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any, NamedTuple

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import ValidationError

from coach.common.html import escape
from coach.config import Settings
from coach.grading.flags import GradeFlag
from coach.grading.model_calls import CoolingModelCaller
from coach.grading.reference import Reference
from coach.grading.rubric import RubricResult
from coach.llm.judge_schema import JudgeVerdict, response_format
from coach.llm.retry import retrying
from coach.prompts import load_prompt

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)
_STATUS_WORDS = {"covered": "覆盖", "partial": "部分", "missed": "未找到"}


def judge_chat_model(settings: Settings, **overrides: Any) -> BaseChatModel:
    """The judge's chat model: its token budget, timeout and JSON schema. ``overrides``
    go to ``make_chat_model``, an ``extra_body`` one joining the schema (the grading
    benchmark passes a recording HTTP client and a cache salt, so it measures the very
    requests grading sends)."""
    from coach.llm.client import make_chat_model

    extra_body = {"response_format": response_format(), **overrides.pop("extra_body", {})}
    params: dict[str, Any] = {
        "max_tokens": settings.grading.judge_max_tokens,
        "timeout": settings.grading.judge_timeout,
        "max_retries": 0,  # tenacity retries, with backoff, in one visible place
        "extra_body": extra_body,
    }
    return make_chat_model(settings, **{**params, **overrides})


def escape_answer(answer: str, max_chars: int) -> str:
    """The candidate's text as inert data: no tag can close the delimiter."""
    text = answer if len(answer) <= max_chars else answer[:max_chars] + " …(truncated)"
    return escape(text, quote=False)


def parse_verdict(text: str) -> JudgeVerdict:
    """The JSON object in ``text`` (code fences and chatter around it tolerated)."""
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if not match:
        raise ValueError("no JSON object in the reply")
    return JudgeVerdict.model_validate(json.loads(match.group(0)))


class JudgeOutcome(NamedTuple):
    """A verdict, or why there is none (notes and flags for the Grade)."""

    verdict: JudgeVerdict | None
    notes: list[str]
    flags: list[str]


class Judge(CoolingModelCaller):
    def __init__(self, settings: Settings, *, chat_model: BaseChatModel | None = None) -> None:
        super().__init__(settings, judge_chat_model, chat_model)

    def messages(
        self, question: str, answer: str, ref: Reference, rubric: RubricResult
    ) -> list[BaseMessage]:
        lines = []
        for i, (point, result) in enumerate(zip(ref.key_points, rubric.points, strict=True), 1):
            found = _STATUS_WORDS[result.status]
            if result.contradicted:
                found = "疑似相反"
            evidence = f"；证据：“{escape_answer(result.evidence, 160)}”" if result.evidence else ""
            lines.append(f"{i}. {point.text()} [checker: {found}{evidence}]")
        checks = ", ".join(rubric.flags) or "none"
        user = load_prompt("judge_user.md").format(
            question=ref.question if ref.card else question,
            key_points="\n".join(lines) or "(none)",
            checks=checks,
            answer=escape_answer(answer, self.settings.grading.answer_max_chars),
        )
        return [SystemMessage(load_prompt("judge_system.md")), HumanMessage(user)]

    async def _call(self, messages: list[BaseMessage]) -> AIMessage:
        s = self.settings
        async for attempt in retrying(s.grading.judge_attempts, s.grading.judge_backoff, logger):
            with attempt:
                return await self.model.ainvoke(messages)  # type: ignore[return-value]
        raise AssertionError("unreachable")  # pragma: no cover

    async def ajudge(
        self, question: str, answer: str, ref: Reference, rubric: RubricResult
    ) -> JudgeOutcome:
        if GradeFlag.EMPTY in rubric.flags:
            return JudgeOutcome(None, ["空回答不调用 LLM 评分。"], [])
        if self.resting:
            return JudgeOutcome(
                None,
                ["The model server failed a moment ago; graded by the rubric alone."],
                [GradeFlag.LLM_UNAVAILABLE],
            )
        messages = self.messages(question, answer, ref, rubric)
        try:
            reply = await self._call(messages)
            try:
                return JudgeOutcome(self._validated(reply), [], [])
            except (ValueError, ValidationError) as first:
                error = self._describe(reply, first)
                logger.warning("The judge's reply was no verdict (%s); asking once more", error)
            repair = HumanMessage(load_prompt("judge_repair.md").format(error=error))
            reply = await self._call([*messages, AIMessage(str(reply.content)), repair])
            try:
                return JudgeOutcome(
                    self._validated(reply), [f"LLM reply repaired once ({error})."], []
                )
            except (ValueError, ValidationError) as second:
                logger.warning(
                    "The judge's repaired reply was no valid verdict either (%s); graded by "
                    "the rubric alone",
                    self._describe(reply, second),
                )
                return JudgeOutcome(
                    None,
                    [
                        f"The LLM's reply was not a valid verdict ({error}), nor was its "
                        f"repair ({self._describe(reply, second)}); graded by the rubric alone."
                    ],
                    [GradeFlag.LLM_INVALID_OUTPUT],
                )
        except Exception as exc:  # any server trouble: the rubric's grade stands
            note = self.failed("judge", "rubric", exc)
            return JudgeOutcome(None, [note], [GradeFlag.LLM_UNAVAILABLE])

    @staticmethod
    def _validated(reply: BaseMessage) -> JudgeVerdict:
        if reply.response_metadata.get("finish_reason") == "length":
            raise ValueError("the reply was cut off at max_tokens")
        return parse_verdict(str(reply.content))

    @staticmethod
    def _describe(reply: BaseMessage, error: Exception) -> str:
        text = str(error).splitlines()[0][:200]
        if reply.response_metadata.get("finish_reason") == "length":
            return "the reply was cut off at max_tokens (invalid JSON)"
        return f"{type(error).__name__}: {text}"
