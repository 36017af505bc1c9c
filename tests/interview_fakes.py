"""Fakes for interview tests: a chat model that records what it was asked and streams
queued replies (LangChain's GenericFakeChatModel), one that cannot connect, a keyword
grader that returns real ``Grade`` objects, and a searcher returning fixed hits."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import BaseModel

from coach.corpus.models import KeyPoint, QuestionCard, SourceSpan
from coach.grading.models import Grade, PointResult, ReferenceUsed, Takeaway


def card(
    card_id: str, topic: str, labels: list[str], *, question: str | None = None
) -> QuestionCard:
    return QuestionCard(
        id=card_id,
        title=f"title {card_id}",
        question=question or f"How does {card_id} work?",
        answer="\n".join(
            f"{i}. **{label}**：explanation of {label} SECRET-{card_id}"
            for i, label in enumerate(labels, 1)
        ),
        key_points=[
            KeyPoint(label=label, explanation=f"explanation of {label} SECRET-{card_id}")
            for label in labels
        ],
        sources=[
            SourceSpan(file=f"{card_id}.md", start_line=10, end_line=20),
            SourceSpan(file="other.md", start_line=3, end_line=9),
        ],
        topic=topic,
    )


CARDS = [
    card("overfit", "训练优化", ["dropout", "augmentation", "early stopping"]),
    card("quant", "推理与部署", ["int8", "calibration"]),
    card("lr", "训练优化", ["warmup", "decay", "schedule", "batch", "optimizer", "clip"]),
]


class RecordingChatModel(GenericFakeChatModel):
    """Streams its queued replies word by word and keeps every prompt it was sent."""

    prompts: list[str] = []

    def _stream(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> Iterator[ChatGenerationChunk]:
        self.prompts.append("\n".join(str(m.content) for m in messages))
        yield from super()._stream(messages, stop=stop, run_manager=run_manager, **kw)


def recording_model(replies: list[str]) -> RecordingChatModel:
    return RecordingChatModel(messages=iter([AIMessage(content=r) for r in replies]), prompts=[])


class DownChatModel(GenericFakeChatModel):
    """A model server that refuses connections, as ChatOpenAI reports it."""

    calls: int = 0

    def _stream(self, *args: Any, **kw: Any) -> Iterator[ChatGenerationChunk]:
        self.calls += 1
        raise openai.APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1:9/v1"))


def down_model() -> DownChatModel:
    return DownChatModel(messages=iter([]))


class KeywordGrader:
    """Covered = the label appears in the answer. Records every call."""

    def __init__(
        self,
        cards: list[QuestionCard],
        fail: bool = False,
        flags: list[str] | None = None,
        *,
        provisional: bool = False,
    ):
        self.cards = {c.id: c for c in cards}
        self.calls: list[dict[str, Any]] = []
        self.fail = fail
        self.flags = flags or []
        self.provisional = provisional
        """Like the real grader with the LLM on: a rubric grade (score halved, feedback
        'provisional') before the final one."""

    async def astages(
        self,
        question: str,
        answer: str,
        *,
        reference: str | None = None,
        card_id: str | None = None,
        llm_timeout: float | None = None,
    ) -> AsyncIterator[tuple[Grade, bool]]:
        grade = await self.agrade(question, answer, reference=reference, card_id=card_id)
        if self.provisional:
            first = grade.model_copy(update={"score": grade.score / 2, "feedback": "provisional"})
            yield first, False
        yield grade, True

    async def agrade(
        self,
        question: str,
        answer: str,
        *,
        reference: str | None = None,
        card_id: str | None = None,
        llm_timeout: float | None = None,
    ) -> Grade:
        """``llm_timeout`` is ignored: this grader has no LLM."""
        self.calls.append(
            {"question": question, "answer": answer, "reference": reference, "card_id": card_id}
        )
        if self.fail:
            raise RuntimeError("grader exploded")
        if reference is not None:
            labels = re.findall(r"\*\*(.+?)\*\*", reference)
        else:
            labels = [p.label for p in self.cards[card_id].key_points]
        points = [
            PointResult(label=label, status="covered" if label in answer else "missed")
            for label in labels
        ]
        score = 10 * sum(p.status == "covered" for p in points) / max(len(points), 1)
        missed = [p.label for p in points if p.status == "missed"]
        # like grading/explain.py: the answer's own words, the first point worth adding
        takeaway = Takeaway(
            why="fake",
            kind="covered" if score >= 6 else "some" if score else "little",
            strength=answer[:30] if score else "",
            addition=missed[0] if missed else "",
            addition_detail=f"explanation of {missed[0]}" if missed else "",
        )
        return Grade(
            score=score,
            points=points,
            gaps=missed,
            takeaway=takeaway,
            feedback=f"feedback for {answer[:20]}",
            references=[ReferenceUsed(card_id=card_id, title="t", sources=["x.md:1"])],
            signals=["rubric"],
            flags=list(self.flags),
        )


class Hit(BaseModel):
    title: str
    source: str
    text: str


class FakeSearcher:
    def __init__(self) -> None:
        self.queries: list[str] = []

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        self.queries.append(query)
        return [
            Hit(title="Dropout", source="000.md:91", text="Dropout drops units at random."),
            Hit(title="Early stopping", source="002.md:12", text="Stop when validation rises."),
        ][: k or 2]
