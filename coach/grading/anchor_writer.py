"""Ask the LLM for a card's three anchor answers: one short call per level.

Why one call per level and not one call for all three: the 1.5B pack, asked for three
marked sections at once, copied the reference's list into the first section and ran out
of tokens before the last (tried 2026-12-03). Asked for one short spoken answer at a
time, with a small token budget, it stays within the format. The static part of the
prompt (instructions, question, references, key points) comes first, so vLLM's prefix
cache serves the second and third calls.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from typing import TYPE_CHECKING

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from coach.config import Settings
from coach.corpus.models import QuestionCard
from coach.grading.anchors import LEVELS, AnchorError, Anchors, card_hash
from coach.prompts import load_prompt

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


@lru_cache(maxsize=1)
def level_instructions() -> dict[str, str]:
    levels = tomllib.loads(load_prompt("anchors_levels.toml"))
    missing = [level for level in LEVELS if not str(levels.get(level, "")).strip()]
    if missing:
        raise AnchorError(f"coach/prompts/anchors_levels.toml lacks {', '.join(missing)}.")
    return {level: str(levels[level]) for level in LEVELS}


def anchor_messages(card: QuestionCard, level: str) -> list[BaseMessage]:
    references = "\n---\n".join(card.reference_texts()) or card.answer
    points = "\n".join(f"- {p.text()}" for p in card.key_points) or "（无）"
    user = load_prompt("anchors_user.md").format(
        question=card.question,
        references=references,
        key_points=points,
        level=level_instructions()[level],
    )
    return [SystemMessage(load_prompt("anchors_system.md")), HumanMessage(user)]


def clean_anchor(text: str, max_chars: int) -> str:
    """The reply as one plain answer: markdown bullets and bold dropped, lines joined,
    cut at a sentence end within ``max_chars``."""
    lines = [line.strip().lstrip("-*•# ").replace("**", "") for line in text.splitlines()]
    flat = "".join(line for line in lines if line)
    if len(flat) <= max_chars:
        return flat
    cut = flat[:max_chars]
    end = max(cut.rfind(mark) for mark in "。！？.!?")
    return cut[: end + 1] if end > 0 else cut


class AnchorWriter:
    def __init__(self, settings: Settings, chat_model: BaseChatModel | None = None) -> None:
        self.settings = settings
        self._model = chat_model

    @property
    def model(self) -> BaseChatModel:
        if self._model is None:
            from coach.llm.client import make_chat_model

            self._model = make_chat_model(
                self.settings,
                max_tokens=self.settings.anchors.max_tokens,
                timeout=self.settings.anchors.timeout,
            )
        return self._model

    def write(self, card: QuestionCard, attempts: int = 2) -> Anchors:
        """The card's anchors; AnchorError when a level came back empty every time."""
        texts: dict[str, str] = {}
        for level in LEVELS:
            for _ in range(attempts):
                reply = self.model.invoke(anchor_messages(card, level))
                text = clean_anchor(str(reply.content), self.settings.anchors.max_chars)
                if text:
                    texts[level] = text
                    break
            else:
                raise AnchorError(f"the model's {level} answer was empty {attempts} times")
        return Anchors(
            card_id=card.id,
            card_hash=card_hash(card),
            model=str(getattr(self.model, "model_name", "") or self.settings.llm.model),
            **texts,
        )
