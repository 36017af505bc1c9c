"""Write a card's prepared interviewer with the LLM (`coach interviewer prepare`).

One short call per question: a phrasing of the card's question, or one probing follow-up
for one key point and one task (why it works / when it fails). Calls for many cards are in
flight at once, up to ``interviewer.concurrency``, because vLLM batches them. Every question
is checked by the same rules as a live phrasing (coach/interview/checks.py) and a follow-up
must name its point; a question that fails twice is left out and the interview uses a
template for it.
"""

from __future__ import annotations

import asyncio
import re
import tomllib
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from coach.common.text import clip, overlap
from coach.config import Settings
from coach.corpus.models import KeyPoint, QuestionCard
from coach.index.tokenize import has_cjk
from coach.interview.checks import usable_question
from coach.interview.prepared import PreparedCard, prepared_hash
from coach.prompts import load_prompt

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

_QUESTION_END = ("？", "?")
_LATIN = re.compile(r"[A-Za-z]{2,}")


def card_text(card: QuestionCard) -> str:
    return " ".join([card.question, card.title, *(p.text() for p in card.key_points)])


@lru_cache(maxsize=1)
def _prompts() -> dict[str, Any]:
    return tomllib.loads(load_prompt("interview_prepare.toml"))


def card_language(card: QuestionCard) -> str:
    return "zh" if has_cjk(card.question) else "en"


def _shots(language: str, kind: str) -> list[BaseMessage]:
    messages: list[BaseMessage] = []
    for shot in _prompts()[language][f"{kind}_shots"]:
        messages += [HumanMessage(shot["user"]), AIMessage(shot["assistant"])]
    return messages


def phrasing_messages(card: QuestionCard) -> list[BaseMessage]:
    texts = _prompts()[card_language(card)]
    return [
        SystemMessage(texts["persona"]),
        *_shots(card_language(card), "phrasing"),
        HumanMessage(texts["phrasing"].format(question=card.question)),
    ]


def probe_messages(
    card: QuestionCard, point: KeyPoint, task: int, point_chars: int
) -> list[BaseMessage]:
    language = card_language(card)
    texts = _prompts()[language]
    tasks = texts["tasks"]
    point_text = clip(point.text(), point_chars)
    return [
        SystemMessage(texts["persona"]),
        *_shots(language, "probe"),
        HumanMessage(
            texts["probe"].format(
                question=card.question, point=point_text, task=tasks[task % len(tasks)]
            )
        ),
    ]


def clean_question(text: str) -> str:
    """The reply's first line without quotes, numbering or a 'question:' lead-in."""
    line = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    line = line.strip().lstrip("-*•#0123456789.、) ").strip()
    for lead in ("追问：", "问题：", "Question:", "Follow-up:"):
        line = line.removeprefix(lead).strip()
    return line.strip('"“”「」').strip()


class InterviewerWriter:
    """Writes prepared interviewers; one instance for a whole run (one HTTP client)."""

    def __init__(self, settings: Settings, chat_model: BaseChatModel | None = None) -> None:
        self.settings = settings
        self._model = chat_model

    @property
    def model(self) -> BaseChatModel:
        if self._model is None:
            from coach.llm.client import make_chat_model

            s = self.settings.interviewer
            self._model = make_chat_model(
                self.settings,
                max_tokens=s.max_tokens,
                timeout=s.timeout,
                temperature=s.temperature,
            )
        return self._model

    @property
    def model_name(self) -> str:
        return str(getattr(self.model, "model_name", "") or self.settings.llm.model)

    async def _ask(
        self, messages: list[BaseMessage], ok: Callable[[str], bool], taken: set[str]
    ) -> str | None:
        """One usable question not already ``taken``, or None after the attempts."""
        for _ in range(self.settings.interviewer.attempts):
            reply = await self.model.bind(stop=["\n"]).ainvoke(messages)
            text = clean_question(str(reply.content))
            if ok(text) and not self._repeats(text, taken):
                taken.add(text)
                return text
        return None

    def _repeats(self, text: str, taken: set[str]) -> bool:
        """Nearly one of the card's questions already written: the first run over the
        seed bank wrote "数据清洗有什么好处？它会带来什么额外开销？" and then "...什么坏处？" as
        the same point's second follow-up (bigram overlap 0.76)."""
        limit = self.settings.interviewer.max_overlap
        return any(overlap(text, other) >= limit for other in taken)

    def _checks(self, card: QuestionCard, point: KeyPoint | None) -> Callable[[str], bool]:
        interview = self.settings.interview
        language = card_language(card)

        known = {w.lower() for w in _LATIN.findall(card_text(card))}

        def ok(text: str) -> bool:
            if not text.endswith(_QUESTION_END) or text == card.question:
                return False
            if language == "zh" and any(w.lower() not in known for w in _LATIN.findall(text)):
                return False  # "…在哪些场景下会 occur？": English the card never uses
            if point is None:
                return usable_question(
                    text,
                    source=card.question,
                    max_chars=interview.question_max_chars,
                    min_overlap=interview.question_min_overlap,
                    language=language,
                )
            named = point.label.lower() in text.lower() or bool(
                point.alias and point.alias.lower() in text.lower()
            )
            return named and usable_question(
                text,
                source="",
                max_chars=interview.question_max_chars,
                min_overlap=0.0,
                language=language,
            )

        return ok

    async def write(self, card: QuestionCard) -> PreparedCard:
        """The card's phrasings and follow-ups (possibly fewer than asked for)."""
        s = self.settings.interviewer
        taken: set[str] = set()
        phrasing_ok = self._checks(card, None)
        phrasings = []
        for _ in range(s.phrasings):
            if text := await self._ask(phrasing_messages(card), phrasing_ok, taken):
                phrasings.append(text)
        probes: dict[str, list[str]] = {}
        for point in card.key_points[: s.max_points]:
            ok = self._checks(card, point)
            for task in range(s.probes_per_point):
                messages = probe_messages(card, point, task, s.point_chars)
                if text := await self._ask(messages, ok, taken):
                    probes.setdefault(point.label, []).append(text)
        return PreparedCard(
            card_id=card.id,
            card_hash=prepared_hash(card),
            phrasings=phrasings,
            probes=probes,
            model=self.model_name,
        )

    async def write_many(
        self,
        cards: Sequence[QuestionCard],
        done: Callable[[QuestionCard, PreparedCard | None, BaseException | None], None],
    ) -> None:
        """Write every card, ``interviewer.concurrency`` at once; ``done`` is called as
        each finishes (to save it at once and move a progress bar), with the error when
        one failed."""
        queue: asyncio.Queue[QuestionCard] = asyncio.Queue()
        for card in cards:
            queue.put_nowait(card)

        async def worker() -> None:
            while not queue.empty():
                card = queue.get_nowait()
                try:
                    item = await self.write(card)
                except Exception as exc:  # one card's failure must not lose the others
                    done(card, None, exc)
                    continue
                done(card, item, None)

        workers = min(self.settings.interviewer.concurrency, len(cards))
        await asyncio.gather(*(worker() for _ in range(workers)))
