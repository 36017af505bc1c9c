"""The LLM as a scorer: one score token, read as an expected value from its log-probs.

Why not the JSON judge: on a CPU the judge writes hundreds of tokens per answer (a
minute each) and its 1.5B verdicts barely moved agreement with people. One generated
token costs only the prompt, and the probabilities vLLM returns for the first token
(``top_logprobs``) give a continuous score: the expected value over the digits 0-5, not
whichever digit happened to win. The static part of the prompt (instructions, question,
references) comes first, so vLLM's prefix cache reuses it across answers to the same
question; the candidate's answer comes last.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, NamedTuple

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from coach.config import Settings
from coach.grading.anchors import LEVELS
from coach.grading.flags import GradeFlag
from coach.grading.judge import escape_answer
from coach.grading.model_calls import CoolingModelCaller
from coach.grading.reference import Reference
from coach.llm.retry import retrying
from coach.prompts import load_prompt

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)
SCALE = 5
"""The prompt asks for 0-5: each score one token in every tokenizer we ship."""


class ScorerOutcome(NamedTuple):
    score: float | None
    """0-10, or None when there is none (then ``notes`` / ``flags`` say why)."""
    notes: list[str]
    flags: list[str]


def expected_score(top_logprobs: list[dict[str, Any]]) -> float | None:
    """Expected digit (0-SCALE) under the first token's top alternatives that are digits,
    renormalised; None when no alternative is a digit."""
    weights: dict[int, float] = {}
    for alternative in top_logprobs:
        token = str(alternative.get("token", "")).strip()
        if token.isdigit() and int(token) <= SCALE:
            value = int(token)
            weights[value] = weights.get(value, 0.0) + math.exp(float(alternative["logprob"]))
    total = sum(weights.values())
    if total <= 0:
        return None
    return sum(v * w for v, w in weights.items()) / total


def first_token_alternatives(reply: BaseMessage) -> list[dict[str, Any]]:
    """``top_logprobs`` of the reply's first token (OpenAI's chat format, as vLLM sends
    it); a reply without log-probs yields its own text as the only alternative."""
    logprobs = (reply.response_metadata or {}).get("logprobs") or {}
    content = logprobs.get("content") or []
    if content:
        first = content[0]
        return list(first.get("top_logprobs") or [first])
    text = str(reply.content).strip()
    return [{"token": text[:1], "logprob": 0.0}] if text else []


def scorer_chat_model(settings: Settings, **overrides: Any) -> BaseChatModel:
    """The scorer's chat model: one token, its log-probs, no retries of its own (tenacity
    retries in one visible place). ``overrides`` go to ``make_chat_model`` (the grading
    benchmark passes a recording HTTP client and a cache salt)."""
    from coach.llm.client import make_chat_model

    params: dict[str, Any] = {
        "max_tokens": settings.grading.scorer_max_tokens,
        "timeout": settings.grading.judge_timeout,
        "max_retries": 0,
        "logprobs": True,
        "top_logprobs": settings.grading.scorer_top_logprobs,
    }
    return make_chat_model(settings, **{**params, **overrides})


class LlmScorer(CoolingModelCaller):
    def __init__(self, settings: Settings, *, chat_model: BaseChatModel | None = None) -> None:
        super().__init__(settings, scorer_chat_model, chat_model)
        self._scores: OrderedDict[str, float] = OrderedDict()
        """Scores by prompt, oldest first (``grading.scorer_cache_size``)."""

    def _remember(self, key: str, score: float) -> None:
        size = self.settings.grading.scorer_cache_size
        if size <= 0:
            return
        self._scores[key] = score
        self._scores.move_to_end(key)
        while len(self._scores) > size:
            self._scores.popitem(last=False)

    def messages(self, question: str, answer: str, ref: Reference) -> list[BaseMessage]:
        limit = self.settings.grading.answer_max_chars
        texts = ref.texts or [p.text() for p in ref.key_points]
        anchors = ""
        if ref.anchors is not None:
            texts = texts[:-1] or texts  # the full anchor is shown as the 5-point example
            anchors = load_prompt("scorer_anchors.md").format(
                **{level: escape_answer(ref.anchors.text(level), limit) for level in LEVELS}
            )
        references = "\n---\n".join(escape_answer(t, limit) for t in texts)
        user = load_prompt("scorer_user.md").format(
            question=ref.question if ref.card else question,
            references=references,
            anchors=anchors,
            answer=escape_answer(answer, limit),
        )
        return [SystemMessage(load_prompt("scorer_system.md")), HumanMessage(user)]

    async def ascore(
        self, question: str, answer: str, ref: Reference, flags: list[str]
    ) -> ScorerOutcome:
        if GradeFlag.EMPTY in flags:
            return ScorerOutcome(None, ["空回答不调用 LLM 评分。"], [])
        if self.resting:
            return ScorerOutcome(
                None,
                ["The model server failed a moment ago; graded by the evidence score alone."],
                [GradeFlag.LLM_UNAVAILABLE],
            )
        s = self.settings
        messages = self.messages(question, answer, ref)
        key = _prompt_key(messages)
        if key in self._scores:
            self._scores.move_to_end(key)
            return ScorerOutcome(self._scores[key], [], [])
        try:
            tries = retrying(s.grading.judge_attempts, s.grading.judge_backoff, logger)
            async for attempt in tries:
                with attempt:
                    reply = await self.model.ainvoke(messages)
        except Exception as exc:  # any server trouble: the evidence score stands
            note = self.failed("scorer", "evidence score", exc)
            return ScorerOutcome(None, [note], [GradeFlag.LLM_UNAVAILABLE])
        value = expected_score(first_token_alternatives(reply))
        if value is None:
            logger.warning(
                "The scorer's reply had no score digit (%r); graded by the evidence score alone",
                str(reply.content)[:40],
            )
            return ScorerOutcome(
                None,
                [
                    f"The LLM's reply had no score digit ({str(reply.content)[:40]!r}); "
                    "graded by the evidence score alone."
                ],
                [GradeFlag.LLM_INVALID_OUTPUT],
            )
        score = round(10 * value / SCALE, 3)
        self._remember(key, score)
        return ScorerOutcome(score, [], [])


def _prompt_key(messages: list[BaseMessage]) -> str:
    """A digest of the whole prompt (the model's identity is the scorer's own)."""
    digest = hashlib.blake2b(digest_size=16)
    for message in messages:
        digest.update(message.type.encode())
        digest.update(str(message.content).encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()
