"""``coach generate-cards``: the LLM writes a card for each article section that asks
nothing, checked against the section before it is kept.

Why the checks: a small model asked for a question about a section sometimes asks
something else, or answers from its own memory. So the reply must be one JSON object
with a question, an answer and 2-5 key points, and each key point must be found in the
section (most of its character pairs occur there); points that are not are dropped, and
a card left with fewer than two is rejected with the reason. Requests run concurrently
so vLLM's continuous batching serves them together; each result is appended to the store
as it arrives, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import TYPE_CHECKING

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from coach.config import Settings
from coach.corpus import generated
from coach.corpus.generated import GeneratedCard, Section
from coach.progress import progress_bar
from coach.prompts import load_prompt

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_NOISE = re.compile(r"[\s\W_]+")
GROUNDED = 0.6
"""Share of a key point's character pairs that must occur in the section."""
MAX_SECTION_CHARS = 2400
"""Longer sections are cut (at a line end): the 1.5B pack's context and speed."""


class GenerationReport(BaseModel):
    sections: int
    skipped: int
    """Already in the store (a resumed run)."""
    written: int
    rejected: int
    seconds: float
    cards_per_minute: float
    concurrency: int


def messages(section: Section) -> list[BaseMessage]:
    text = section.text
    if len(text) > MAX_SECTION_CHARS:
        cut = text.rfind("\n", 0, MAX_SECTION_CHARS)
        text = text[: cut if cut > 0 else MAX_SECTION_CHARS]
    user = load_prompt("card_writer_user.md").format(title=section.title, text=text)
    return [SystemMessage(load_prompt("card_writer_system.md")), HumanMessage(user)]


def _pairs(text: str) -> set[str]:
    core = _NOISE.sub("", text.lower())
    return {core[i : i + 2] for i in range(len(core) - 1)} or {core}


def grounded(point: str, section_pairs: set[str]) -> bool:
    """Whether most of ``point``'s character pairs occur in the section."""
    pairs = _pairs(point)
    return len(pairs & section_pairs) >= GROUNDED * len(pairs)


def card_from_reply(reply: str, section: Section, model: str) -> GeneratedCard:
    """The store's record for ``reply``: a card, or the reason it is not one."""
    record = GeneratedCard(
        key=section.key,
        text_hash=section.text_hash,
        file=section.file,
        start_line=section.start_line,
        end_line=section.end_line,
        topic=section.topic,
        model=model,
    )
    match = _OBJECT.search(reply)
    try:
        data = json.loads(match[0]) if match else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        record.rejected = "the reply held no JSON object"
        return record
    question = str(data.get("question", "")).strip()
    answer = str(data.get("answer", "")).strip()
    points = [str(p).strip() for p in data.get("key_points") or [] if str(p).strip()]
    pairs = _pairs(section.text)
    kept = [p for p in points if grounded(p, pairs)][:5]
    record.question, record.answer, record.key_points = question, answer, kept
    if not question or not answer:
        record.rejected = "no question or no answer"
    elif len(kept) < 2:
        missing = len(points) - len(kept)
        record.rejected = f"{missing} of {len(points)} key points not in the section"
    return record


async def _generate(
    todo: list[Section], chat: BaseChatModel, settings: Settings, concurrency: int
) -> tuple[int, int]:
    gate = asyncio.Semaphore(concurrency)
    path = settings.paths.generated_cards_file

    async def one(section: Section) -> GeneratedCard:
        async with gate:
            try:
                reply = await chat.ainvoke(messages(section))
                text = reply.content if isinstance(reply.content, str) else str(reply.content)
            except Exception as exc:  # the server failing one request must not stop the run
                return card_from_reply("", section, settings.llm.model).model_copy(
                    update={"rejected": f"request failed: {exc}"[:200]}
                )
            return card_from_reply(text, section, settings.llm.model)

    written = rejected = 0
    bar = progress_bar(total=len(todo), desc="generate", unit="card", disable=not todo)
    for next_done in asyncio.as_completed([one(s) for s in todo]):
        record = await next_done
        if record.rejected.startswith("request failed"):
            rejected += 1  # not stored: the next run asks again
        else:
            generated.append(path, record)
            written += not record.rejected
            rejected += bool(record.rejected)
        bar.set_postfix_str(record.file, refresh=False)
        bar.update(1)
    bar.close()
    return written, rejected


def generate_cards(
    all_sections: list[Section],
    settings: Settings,
    chat: BaseChatModel,
    *,
    limit: int | None = None,
    concurrency: int = 8,
    retry: bool = False,
) -> GenerationReport:
    """Ask for a card for every section not yet in the store (``retry``: those the
    model's reply was rejected for too); at most ``limit`` requests this run."""
    store = generated.load(settings.paths.generated_cards_file)
    done = {
        key
        for key, record in store.items()
        # --retry asks again where the model failed, never where a person said no
        if not (retry and record.rejected and record.rejected != generated.REJECTED_BY_PERSON)
        and any(s.key == key and s.text_hash == record.text_hash for s in all_sections)
    }
    todo = [s for s in all_sections if s.key not in done][:limit]
    started = time.perf_counter()
    written, rejected = asyncio.run(_generate(todo, chat, settings, concurrency))
    seconds = time.perf_counter() - started
    return GenerationReport(
        sections=len(all_sections),
        skipped=len(all_sections) - len([s for s in all_sections if s.key not in done]),
        written=written,
        rejected=rejected,
        seconds=round(seconds, 1),
        cards_per_minute=round(written / seconds * 60, 2) if seconds else 0.0,
        concurrency=concurrency,
    )
