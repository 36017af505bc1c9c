"""The coaching around a graded answer: the advice under the grade and 更好的回答.

Why apart from the engine: neither changes the interview's course (nothing here is
scored or decides a follow-up); both read the grade, the card and the candidate's words
and write one stored text. What they say is built in coach/interview/advice.py.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence

from coach.config import Settings
from coach.corpus.models import QuestionCard
from coach.grading.models import Grade
from coach.interview.advice import (
    advice_fallback,
    advice_opening,
    advice_values,
    compose_stronger,
    first_sentence,
    stronger_values,
    summary_facts,
    summary_fallback,
    summary_opening,
    summary_sentences,
    usable_advice,
    usable_summary,
    weak_session,
    whole_sentences,
)
from coach.interview.model_voice import ModelVoice
from coach.interview.models import Event, Language, Turn
from coach.interview.report import SessionReport
from coach.prompts import chat_prompt
from coach.store.history import HistoryStore

logger = logging.getLogger(__name__)


class Coaching:
    def __init__(
        self,
        settings: Settings,
        language: Language,
        voice: ModelVoice,
        store: HistoryStore,
        searcher: object | None,
        say: Callable[..., str],
    ) -> None:
        self.settings = settings
        self.language = language
        self.voice = voice
        self.store = store
        self.searcher = searcher
        self.say = say

    async def advise(
        self, turn: Turn, index: int, card: QuestionCard, grade: Grade
    ) -> AsyncIterator[Event]:
        """The advice, streamed into its place under the grade: the strongest part at
        once, then the model's sentence about the point worth adding (the card's own
        sentence when the model is down or writes nothing usable)."""
        language = self.language
        opening = advice_opening(grade, language) + ("" if language == "zh" else " ")
        yield Event(kind="advice", text=opening, done=False, turn=index)
        values = advice_values(
            turn.text, card, grade, turn.answer or "", self.say("language_name"), self.settings
        )
        sentence = ""
        if values is not None:
            async for partial, failure in self.voice.stream(
                chat_prompt("interview_advice"),
                values,
                self.settings.interview.advice_max_tokens,
                stop=["\n"],
            ):
                if failure is not None:
                    for event in self.voice.tell_down(failure):
                        yield event
                    sentence = ""
                    break
                sentence = partial
                yield Event(kind="advice", text=f"{opening}{sentence}", done=False, turn=index)
        sentence = first_sentence(sentence)
        if values is None or not usable_advice(sentence, values["point"], turn.text):
            sentence = advice_fallback(grade, language)
        text = f"{opening}{sentence}".strip()
        turn.advice = text
        self.store.add_coaching(turn.answer_id, "advice", text)
        yield Event(kind="advice", text=text, turn=index)

    async def stronger(
        self, turns: Sequence[Turn], cards_by_id: dict[str, QuestionCard]
    ) -> AsyncIterator[Event]:
        """更好的回答: the last graded main answer as written, then what the card adds
        (corrections, missing points, each cited) and the passages retrieval finds as
        further reading; or the model's rewrite (``interview.stronger_by_model``).
        Offered after answering; never scored; stored with the turn."""
        main = next((t for t in reversed(turns) if t.kind == "main" and t.grade and t.answer), None)
        if main is None or main.grade is None:
            yield Event(kind="notice", text=self.say("notice_answer_first"))
            return
        card = cards_by_id[main.card_id]
        index = list(turns).index(main)
        passages = self._passages(card)
        if self.settings.interview.stronger_by_model:
            async for event in self._stronger_by_model(main, index, card, passages):
                yield event
            return
        text, sources = compose_stronger(
            card,
            main.grade,
            main.answer or "",
            passages,
            self.language,
            self.settings.interview.stronger_points,
        )
        main.stronger = text
        self.store.add_coaching(main.answer_id, "stronger", text)
        yield Event(kind="stronger", text=text, sources=sources, turn=index)

    def _passages(self, card: QuestionCard) -> list:
        k = self.settings.interview.stronger_passages
        if self.searcher is None or not k:
            return []
        try:
            return self.searcher.search(card.question, k)  # type: ignore[attr-defined]
        except Exception:  # the card alone is enough material
            logger.warning("Searching passages for a stronger answer failed", exc_info=True)
            return []

    async def _stronger_by_model(
        self, main: Turn, index: int, card: QuestionCard, passages: list
    ) -> AsyncIterator[Event]:
        if not self.voice.ready():
            yield Event(kind="notice", text=self.say("notice_stronger_needs_model"))
            return
        values, sources = stronger_values(
            main.text, card, main.answer or "", passages, self.say("language_name"), self.settings
        )
        text = ""
        async for partial, failure in self.voice.stream(
            chat_prompt("interview_stronger"), values, self.settings.interview.stronger_max_tokens
        ):
            if failure is not None:
                for event in self.voice.tell_down(failure):
                    yield event
                break
            text = partial
            yield Event(kind="stronger", text=text, done=False, sources=sources, turn=index)
        text = whole_sentences(text)
        if text:
            main.stronger = text
            self.store.add_coaching(main.answer_id, "stronger", text)
        yield Event(kind="stronger", text=text, sources=sources, turn=index)

    async def summarize(self, report: SessionReport) -> AsyncIterator[Event]:
        """The coach's few sentences on the whole interview, streamed after the debrief
        (the final event's text is the summary; the engine keeps it for the report):
        the program's opening (band word and mean), then the model's one or two sentences
        from the debrief's own facts, kept only when ``usable_summary`` passes; else (and
        when the model is down) the program's sentence on the best answer and first gap."""
        if not report.results:
            return
        settings, language = self.settings, self.language
        opening = summary_opening(report, settings, language)
        yield Event(kind="summary", text=opening, done=False)
        facts = summary_facts(report, language, settings)
        values = {"language": self.say("language_name"), "facts": facts, "opening": opening}
        text = ""
        async for partial, failure in self.voice.stream(
            chat_prompt("interview_summary"), values, settings.interview.summary_max_tokens
        ):
            if failure is not None:
                for event in self.voice.tell_down(failure):
                    yield event
                text = ""
                break
            text = partial
            yield Event(kind="summary", text=f"{opening}{text}", done=False)
        text = summary_sentences(text, opening, settings.interview.summary_max_sentences)
        low = weak_session(report, settings)
        if not usable_summary(text, facts, language, settings, low=low):
            text = summary_fallback(report, language)
        yield Event(kind="summary", text=f"{opening}{text}".strip())
