"""Ask the LLM for a card's three anchor answers, in one call.

Why one call with three marked sections and not JSON: a small model keeps a plain
format as well as a schema, and a schema request costs a grammar compilation on first
use; the sections are parsed strictly (all three present, none empty), and a reply that
breaks the format is retried once with the same prompt before the card is skipped.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from langchain_core.messages import HumanMessage, SystemMessage

from coach.config import Settings
from coach.corpus.models import QuestionCard
from coach.grading.anchors import AnchorError, Anchors, card_hash
from coach.grading.judge import load_prompt

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

MARKERS = {"full": "【完整回答】", "partial": "【部分回答】", "wrong": "【错误回答】"}
_SECTION = re.compile("(" + "|".join(map(re.escape, MARKERS.values())) + ")")


def parse_anchors(text: str) -> dict[str, str]:
    """The three sections of a reply; AnchorError unless each appears with text."""
    by_marker = {v: k for k, v in MARKERS.items()}
    found: dict[str, str] = {}
    pieces = _SECTION.split(text)
    for marker, body in zip(pieces[1::2], pieces[2::2], strict=True):
        level = by_marker[marker]
        if level not in found:
            found[level] = body.strip().strip("（）()").strip()
    missing = [MARKERS[k] for k in MARKERS if not found.get(k)]
    if missing:
        raise AnchorError(f"The model's reply lacks {'、'.join(missing)}.")
    return found


def anchor_messages(card: QuestionCard) -> list:  # noqa: ANN201 - LangChain messages
    references = "\n---\n".join(card.reference_texts()) or card.answer
    points = "\n".join(f"- {p.text()}" for p in card.key_points) or "（无）"
    user = load_prompt("anchors_user.md").format(
        question=card.question, references=references, key_points=points
    )
    return [SystemMessage(load_prompt("anchors_system.md")), HumanMessage(user)]


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
                max_tokens=self.settings.anchors_max_tokens,
                timeout=self.settings.anchors_timeout,
            )
        return self._model

    def write(self, card: QuestionCard, attempts: int = 2) -> Anchors:
        """The card's anchors; AnchorError when the model broke the format every time."""
        error: AnchorError | None = None
        for _ in range(attempts):
            reply = self.model.invoke(anchor_messages(card))
            try:
                texts = parse_anchors(str(reply.content))
            except AnchorError as exc:
                error = exc
                continue
            return Anchors(
                card_id=card.id,
                card_hash=card_hash(card),
                model=str(getattr(self.model, "model_name", "") or self.settings.llm_model),
                **texts,
            )
        assert error is not None
        raise error
