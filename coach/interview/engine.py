"""The mock-interview state machine, independent of any UI.

Phases: ``idle`` -> ``awaiting_answer`` (a main question is out) -> grade -> either
``awaiting_follow_up`` (the program found missed points, or wants depth, and has
follow-ups left) or the next main question -> ... -> ``finished`` (the session report).
The PROGRAM decides when to follow up and when to move on; the model only phrases
questions and answers free questions, and when it fails the card's own text is used.

Every action is an async generator of ``Event``s, so a UI can stream model output as it
arrives and a test can collect the events. Nothing typed is lost: the answer is written
to the history store before grading starts, and the grade is added afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate

from coach.config import Settings
from coach.corpus.models import KeyPoint, QuestionCard
from coach.grading.flags import GradeFlag
from coach.grading.models import Grade, StagedGrader
from coach.interview.advice import (
    advice_fallback,
    advice_opening,
    advice_values,
    compose_stronger,
    first_sentence,
    stronger_values,
    usable_advice,
    whole_sentences,
)
from coach.interview.checks import usable_question
from coach.interview.models import Event, InterviewConfig, Phase, Turn
from coach.interview.phrases import phrase, phrase_variants
from coach.interview.report import SessionReport, build_report
from coach.interview.selection import choose_cards, difficulty_of
from coach.llm.client import unavailable_message
from coach.prompts import chat_prompt
from coach.speech.models import Delivery
from coach.store.history import HistoryStore

logger = logging.getLogger(__name__)


class Passages(Protocol):
    """What the coach needs to answer a free question: HybridSearcher.search's shape."""

    def search(self, query: str, k: int | None = None) -> list: ...


@dataclass
class Services:
    """What every interview in a process shares (models are loaded once)."""

    settings: Settings
    cards: Sequence[QuestionCard]
    grader: StagedGrader
    store: HistoryStore
    chat_model: BaseChatModel | None = None
    """None: no model at all (questions use the cards' own text)."""
    searcher: Passages | None = None
    """None: free questions are answered with a notice that the index is missing."""
    cards_by_id: dict[str, QuestionCard] = field(init=False)

    def __post_init__(self) -> None:
        self.cards_by_id = {c.id: c for c in self.cards}


def model_failure(exc: BaseException, settings: Settings) -> str:
    """The message for a failed model call: the standard 'server unreachable' text when
    it is a connection problem (what the user can fix), else the error itself."""
    name = type(exc).__name__
    if any(key in name for key in ("Connection", "Timeout", "Unavailable", "Connect")):
        return unavailable_message(settings, name)
    return f"The model failed ({name}: {exc}); coach carries on without it."


def reference_from_points(points: Sequence[KeyPoint]) -> str:
    """A reference answer made of the given points, in the card's own bold-label form, so
    the grader extracts exactly these points as the rubric of a follow-up."""
    return "\n".join(f"{i}. **{p.label}**：{p.explanation}" for i, p in enumerate(points, 1))


class InterviewEngine:
    """One candidate's interview. Not thread-safe: one per browser session."""

    def __init__(
        self, services: Services, config: InterviewConfig, *, seed: int | None = None
    ) -> None:
        self.services = services
        self.settings = services.settings
        self.config = config
        self.rng = random.Random(seed)
        self.phase: Phase = "idle"
        self.session_id = ""
        self.queue: list[QuestionCard] = []
        self.index = -1
        self.turns: list[Turn] = []
        self.open_points: list[str] = []
        self.follow_ups = 0
        self.depth_asked = False
        self.own_follow_up: str | None = None
        self.main_score = 0.0
        self.model_down = services.chat_model is None
        self._told_model_down = False
        self._advising = False

    def continue_without_model(self) -> None:
        """Run without the chat model (cards' own text) and do not say so again.

        Why: a caller that found the model server down before the interview (the UI)
        has already told the candidate; the engine's own once-per-session notice would
        repeat it."""
        self.model_down = True
        self._told_model_down = True

    # --- public actions ----------------------------------------------------------------
    async def start(self) -> AsyncIterator[Event]:
        """Choose the cards, open a session in the store, ask the first question."""
        if self.phase != "idle":
            yield Event(kind="notice", text=self._say("notice_started"))
            return
        store = self.services.store
        cards, relaxed = choose_cards(
            self.services.cards,
            topic=self.config.topic,
            difficulty=self.config.difficulty,
            count=min(self.config.questions, self.settings.interview.max_questions),
            reviews=store.reviews(),
            now=store.clock(),
            settings=self.settings,
            rng=self.rng,
        )
        if not cards:
            yield Event(
                kind="error",
                text=self._say("notice_no_topic", topic=self.config.topic),
            )
            return
        self.queue = cards
        self.session_id = store.start_session(
            topic=self.config.topic,
            difficulty=self.config.difficulty,
            planned=len(cards),
            language=self.config.language,
        )
        if relaxed:
            yield Event(
                kind="notice",
                text=self._say(
                    "notice_relaxed",
                    count=len(cards),
                    difficulty=self._say(f"difficulty_{self.config.difficulty}"),
                ),
            )
        async for event in self._next_main():
            yield event

    async def answer(self, text: str, delivery: Delivery | None = None) -> AsyncIterator[Event]:
        """Save the answer, grade it, show the grade, then follow up or move on.

        ``delivery``: the answer was spoken; its length and pace go into the feedback."""
        text = (text or "").strip()
        if self.phase not in ("awaiting_answer", "awaiting_follow_up"):
            yield Event(kind="notice", text=self._say("notice_no_open_question"))
            return
        if not text:
            yield Event(kind="notice", text=self._say("notice_empty_answer"))
            return
        limit = self.settings.interview.max_answer_chars
        if len(text) > limit:
            yield Event(
                kind="notice",
                text=self._say("notice_answer_too_long", length=len(text), limit=limit),
            )
            return
        index = len(self.turns) - 1
        turn = self.turns[index]
        store = self.services.store
        # Write-ahead: the answer is on disk before anything can fail.
        turn.answer_id = store.add_answer(turn.question_id, text)
        turn.answer = text
        turn.delivery = delivery
        yield Event(kind="grading", turn=index)
        card = self.services.cards_by_id[turn.card_id]
        grade: Grade | None = None
        try:
            async for grade, final in self._grades(turn, card, text):
                if not final:  # the rubric's grade while the judge writes its verdict
                    yield Event(kind="grade", grade=grade, turn=index, done=False)
        except Exception as exc:  # the grader must not take the answer down with it
            logger.warning("Grading answer %s failed; it is saved", turn.answer_id, exc_info=True)
            message = f"Grading failed ({type(exc).__name__}: {exc})."
            store.add_grade_error(turn.answer_id, message)
            yield Event(
                kind="error",
                text=message + " Your answer is saved; submit it again or skip.",
                turn=index,
            )
            return
        assert grade is not None, "a grader's stages end with a final grade"
        store.add_grade(turn.answer_id, grade)
        store.set_outcome(turn.question_id, "answered")
        turn.grade = grade
        turn.outcome = "answered"
        if GradeFlag.LLM_UNAVAILABLE in grade.flags:
            self.model_down = True
            for event in self._tell_model_down(None):
                yield event
        yield Event(kind="grade", grade=grade, turn=index)
        advise = turn.kind == "main" and self.settings.interview.advice
        if advise:  # its place in the chat, under the grade; written after the follow-up
            yield Event(kind="advice", done=False, turn=index)
        if turn.kind == "main":
            store.record_review(card.id, grade.score)
            said = text.lower()
            self.open_points = list(grade.gaps) or [
                p.label
                for p in grade.points
                if p.status != "covered" and p.label.lower() not in said
            ]
            self.main_score = grade.score
            self.own_follow_up = grade.follow_up if self._about_own_content(grade) else None
        else:  # a point the candidate has now spoken about is not asked again
            said = text.lower()
            self.open_points = [p for p in self.open_points if p.lower() not in said]
        self._advising = advise  # the model writes the advice, not a live phrasing
        try:
            async for event in self._follow_up_or_next(card):
                yield event
        finally:
            self._advising = False
        if advise:
            async for event in self._advise(turn, index, card, grade):
                yield event

    async def stronger_answer(self) -> AsyncIterator[Event]:
        """更好的回答: the last graded main answer as written, then what the card adds
        (corrections, missing points, each cited) and the passages retrieval finds as
        further reading; or the model's rewrite (``interview.stronger_by_model``).
        Offered after answering; never scored; stored with the turn."""
        main = next(
            (t for t in reversed(self.turns) if t.kind == "main" and t.grade and t.answer),
            None,
        )
        if main is None or main.grade is None:
            yield Event(kind="notice", text=self._say("notice_answer_first"))
            return
        card = self.services.cards_by_id[main.card_id]
        passages: list = []
        k = self.settings.interview.stronger_passages
        if self.services.searcher is not None and k:
            try:
                passages = self.services.searcher.search(card.question, k)
            except Exception:  # the card alone is enough material
                logger.warning("Searching passages for a stronger answer failed", exc_info=True)
        index = self.turns.index(main)
        if self.settings.interview.stronger_by_model:
            async for event in self._stronger_by_model(main, index, card, passages):
                yield event
            return
        text, sources = compose_stronger(
            card,
            main.grade,
            main.answer or "",
            passages,
            self.config.language,
            self.settings.interview.stronger_points,
        )
        main.stronger = text
        self.services.store.add_coaching(main.answer_id, "stronger", text)
        yield Event(kind="stronger", text=text, sources=sources, turn=index)

    async def _stronger_by_model(
        self, main: Turn, index: int, card: QuestionCard, passages: list
    ) -> AsyncIterator[Event]:
        if not self._model_ready():
            yield Event(kind="notice", text=self._say("notice_stronger_needs_model"))
            return
        values, sources = stronger_values(
            main.text, card, main.answer or "", passages, self._say("language_name"), self.settings
        )
        text = ""
        async for partial, failure in self._stream(
            chat_prompt("interview_stronger"), values, self.settings.interview.stronger_max_tokens
        ):
            if failure is not None:
                for event in self._tell_model_down(failure):
                    yield event
                break
            text = partial
            yield Event(kind="stronger", text=text, done=False, sources=sources, turn=index)
        text = whole_sentences(text)
        if text:
            main.stronger = text
            self.services.store.add_coaching(main.answer_id, "stronger", text)
        yield Event(kind="stronger", text=text, sources=sources, turn=index)

    async def hint(self) -> AsyncIterator[Event]:
        """Main question: reveal key-point labels one more at a time. Follow-up: the
        start of the probed point's explanation."""
        if self.phase not in ("awaiting_answer", "awaiting_follow_up"):
            yield Event(kind="notice", text=self._say("notice_no_open_question"))
            return
        index = len(self.turns) - 1
        turn = self.turns[index]
        card = self.services.cards_by_id[turn.card_id]
        turn.hints += 1
        if turn.kind == "main" and card.key_points:
            shown = card.key_points[: turn.hints]
            labels = "、".join(f"「{p.label}」" for p in shown)
            text = self._say("hint_main", labels=labels)
            remaining = len(card.key_points) - len(shown)
            if remaining > 0:
                text += self._say("hint_more", remaining=remaining)
            elif turn.hints > len(card.key_points):
                text = self._say("hint_none")
        elif turn.kind == "follow_up" and turn.targets:
            point = next((p for p in card.key_points if p.label == turn.targets[0]), None)
            cut = self.settings.interview.hint_chars
            body = point.explanation if point and point.explanation else turn.targets[0]
            text = self._say("hint_follow_up", text=body[:cut] + "…")
        else:
            text = self._say("hint_none")
        yield Event(kind="hint", text=text, turn=index)

    async def skip(self) -> AsyncIterator[Event]:
        """Leave the question (and its follow-ups); a skipped main question comes back."""
        if self.phase not in ("awaiting_answer", "awaiting_follow_up"):
            yield Event(kind="notice", text=self._say("notice_no_open_question"))
            return
        turn = self.turns[-1]
        self._close(turn, "skipped")
        async for event in self._next_main():
            yield event

    async def next_question(self) -> AsyncIterator[Event]:
        """下一题: leave the remaining follow-ups and go on. A follow-up left so is
        ``passed``, not skipped: the main question was answered and graded; on a main
        question it is a skip."""
        if self.phase == "awaiting_follow_up":
            self._close(self.turns[-1], "passed")
            async for event in self._next_main():
                yield event
            return
        async for event in self.skip():
            yield event

    async def reveal(self) -> AsyncIterator[Event]:
        """Show the reference answer with its sources, then move on (an unanswered
        question counts as failed, so it comes back)."""
        if self.phase not in ("awaiting_answer", "awaiting_follow_up"):
            yield Event(kind="notice", text=self._say("notice_no_open_question"))
            return
        index = len(self.turns) - 1
        turn = self.turns[index]
        card = self.services.cards_by_id[turn.card_id]
        self._close(turn, "revealed")
        yield Event(
            kind="reference",
            text=reference_text(card),
            sources=[s.ref() for s in card.sources],
            turn=index,
        )
        async for event in self._next_main():
            yield event

    async def ask_coach(self, question: str) -> AsyncIterator[Event]:
        """Answer a free question about the material from retrieved passages, with
        citations. Does not change the interview's phase."""
        question = (question or "").strip()
        if not question:
            yield Event(kind="notice", text=self._say("notice_empty_coach_question"))
            return
        if self.services.searcher is None:
            yield Event(kind="error", text=self._say("error_no_index"))
            return
        try:
            hits = self.services.searcher.search(question, self.settings.interview.coach_k)
        except Exception as exc:
            logger.warning("Searching the passages for a free question failed", exc_info=True)
            error = f"{type(exc).__name__}: {exc}"
            yield Event(kind="error", text=self._say("error_search", error=error))
            return
        if not hits:
            yield Event(kind="coach", text=self._say("coach_no_match"))
            return
        sources = [h.source for h in hits]
        context = "\n\n".join(
            f"[{i}] {h.title} ({h.source})\n{h.text}" for i, h in enumerate(hits, 1)
        )
        values = {"language": self._say("language_name"), "context": context, "question": question}
        text = ""
        async for partial, failure in self._stream(
            chat_prompt("interview_coach"), values, self.settings.interview.coach_max_tokens
        ):
            if failure is not None:
                for event in self._tell_model_down(failure):
                    yield event
                text = "\n".join(f"[{i}] {h.title}" for i, h in enumerate(hits, 1))
                break
            text = partial
            yield Event(kind="coach", text=text, done=False, sources=sources)
        yield Event(kind="coach", text=text, sources=sources)

    def report(self) -> SessionReport:
        return build_report(
            self.turns,
            self.services.cards_by_id,
            session_id=self.session_id,
            config=self.config,
            created_at=self.services.store.clock(),
            pass_score=self.settings.interview.pass_score,
        )

    @property
    def current_turn(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def speech_prompt(self) -> tuple[str | None, list[str]]:
        """The open question and its card's key-point labels and aliases: what a spoken
        answer is likely to contain, for the speech model's prompt."""
        turn = self.current_turn
        if turn is None or turn.answer is not None:
            return None, []
        card = self.services.cards_by_id.get(turn.card_id)
        points = card.key_points if card else []
        terms = [term for p in points for term in (p.label, p.alias) if term]
        return turn.text, terms

    # --- the program's decisions ------------------------------------------------------
    async def _follow_up_or_next(self, card: QuestionCard) -> AsyncIterator[Event]:
        """Follow up while points are still missed and follow-ups are left; once, for
        depth, when everything was covered but the score is not yet high; else move on."""
        if self.follow_ups < self.settings.interview.follow_ups:
            if self.own_follow_up:  # a strong answer of its own: ask about what it said
                text, self.own_follow_up = self.own_follow_up, None
                self.depth_asked = True
                async for event in self._ask_follow_up(card, [], text=text):
                    yield event
                return
            if self.open_points:
                target = self.open_points.pop(0)
                async for event in self._ask_follow_up(card, [target]):
                    yield event
                return
            if not self.depth_asked and self.main_score < self.settings.interview.depth_score:
                self.depth_asked = True
                async for event in self._ask_follow_up(card, []):
                    yield event
                return
        async for event in self._next_main():
            yield event

    async def _next_main(self) -> AsyncIterator[Event]:
        self.index += 1
        self.open_points, self.follow_ups, self.depth_asked = [], 0, False
        self.own_follow_up = None
        self.main_score = 0.0
        if self.index >= len(self.queue):
            self.phase = "finished"
            self.services.store.end_session(self.session_id)
            yield Event(kind="report", text=self.session_id)
            return
        card = self.queue[self.index]
        index = len(self.turns)
        turn = Turn(
            kind="main", card_id=card.id, topic=card.topic, title=card.title, text=card.question
        )
        turn.question_id = self.services.store.add_question(
            self.session_id, card.question, kind="main", card_id=card.id, topic=card.topic
        )
        self.turns.append(turn)
        self.phase = "awaiting_answer"
        # The card's own question at once; the model's phrasing may only replace it while
        # the candidate is still reading (a CPU model takes 7-14 s to write one).
        yield Event(kind="question", text=card.question, turn=index)
        if self.settings.interview.rephrase:
            values = {
                "language": self._say("language_name"),
                "topic": card.topic,
                "difficulty": difficulty_of(card, self.settings),
                "question": card.question,
            }
            async for event in self._revise(
                turn,
                index,
                chat_prompt("interview_ask"),
                values,
                window=self.settings.interview.rephrase_window_s,
                source=card.question,
            ):
                yield event

    def _about_own_content(self, grade: Grade) -> bool:
        """The answer took its own valid route (its depth carries it): the follow-up is
        the grade's question about the candidate's own content, not the card's list."""
        depth = (grade.depth or 0.0) / 10
        return (
            depth >= self.settings.grading.other_route_depth
            and grade.score >= self.settings.interview.pass_score
            and bool(grade.follow_up)
        )

    async def _ask_follow_up(
        self, card: QuestionCard, targets: list[str], text: str | None = None
    ) -> AsyncIterator[Event]:
        main = next(t for t in reversed(self.turns) if t.kind == "main")
        aspect = targets[0] if targets else self._say("depth_aspect")
        if text:
            fallback = text
        elif targets:
            fallback = self._pick("follow_up_fallback", aspect=aspect)
        else:
            fallback = self._pick("depth_follow_up_fallback")
        values = {
            "language": self._say("language_name"),
            "question": main.text,
            "answer": main.answer or "",
            "aspect": aspect,
        }
        index = len(self.turns)
        self.follow_ups += 1
        turn = Turn(
            kind="follow_up",
            card_id=card.id,
            topic=card.topic,
            title=card.title,
            text=fallback,
            targets=targets,
        )
        turn.question_id = self.services.store.add_question(
            self.session_id,
            fallback,
            kind="follow_up",
            card_id=card.id,
            topic=card.topic,
            parent_id=main.question_id,
        )
        self.turns.append(turn)
        self.phase = "awaiting_follow_up"
        # The templated follow-up at once; the model's, only if it comes within the bound.
        yield Event(kind="follow_up", text=fallback, turn=index)
        async for event in self._revise(
            turn,
            index,
            chat_prompt("interview_follow_up"),
            values,
            window=self.settings.interview.follow_up_window_s,
            source=None,
            must_mention=targets[0] if targets else None,
        ):
            yield event

    async def _grades(
        self, turn: Turn, card: QuestionCard, text: str
    ) -> AsyncIterator[tuple[Grade, bool]]:
        """A main question is graded against its card. A follow-up is graded on its own
        question against the points it probed, or, when it asked about the candidate's
        own content, against the card's points as material: graded as the card's main
        question, an answer about QLoRA after a LoRA question sat closer to other cards
        and was flagged off-topic (1.0) with a point of the card made."""
        grader = self.services.grader
        points = [p for p in card.key_points if p.label in turn.targets] or card.key_points
        if turn.kind == "follow_up" and points:
            stages = grader.astages(turn.text, text, reference=reference_from_points(points))
        else:
            stages = grader.astages(card.question, text, card_id=card.id)
        async for stage in stages:
            yield stage

    def _close(self, turn: Turn, outcome: str) -> None:
        store = self.services.store
        turn.outcome = outcome  # type: ignore[assignment]
        store.set_outcome(turn.question_id, outcome)
        if turn.kind == "main":
            store.record_review(turn.card_id, None)

    # --- the model ----------------------------------------------------------------------
    async def _revise(
        self,
        turn: Turn,
        index: int,
        prompt: ChatPromptTemplate,
        values: dict[str, str],
        *,
        window: float,
        source: str | None,
        must_mention: str | None = None,
    ) -> AsyncIterator[Event]:
        """Ask the model to phrase the turn's question; if a usable phrasing arrives
        within ``window`` seconds and the candidate has not answered yet, it replaces the
        shown text (one ``revised`` event) and the stored question. Otherwise the request
        is cancelled (vLLM stops generating when the client goes) and nothing changes."""
        if window <= 0 or not self._model_ready() or self._advising:
            return
        kind = "question" if turn.kind == "main" else "follow_up"
        notices: list[Event] = []
        try:
            phrased = self._phrased(
                prompt, values, source=source, must_mention=must_mention, notices=notices
            )
            final = await asyncio.wait_for(phrased, timeout=window)
        except TimeoutError:
            logger.debug("no usable phrasing within %g s: the shown text stays", window)
            final = None
        for notice in notices:
            yield notice
        if (
            not final
            or final == turn.text
            or turn.answer is not None
            or self.current_turn is not turn
        ):
            return
        turn.text = final
        self.services.store.revise_question(turn.question_id, final)
        yield Event(kind=kind, text=final, turn=index, revised=True)  # type: ignore[arg-type]

    async def _phrased(
        self,
        prompt: ChatPromptTemplate,
        values: dict[str, str],
        *,
        source: str | None,
        must_mention: str | None,
        notices: list[Event],
    ) -> str | None:
        """The model's phrasing of one question, or None when the model fails or
        ``usable_question`` rejects it. A question is one line: the model stops at the
        first line break. A failure's notice goes to ``notices``, so it survives when the
        caller's time bound cancels this coroutine."""
        limit = self.settings.interview.question_max_chars
        text = ""
        async for partial, failure in self._stream(
            prompt, values, self.settings.interview.chat_max_tokens, stop=["\n"]
        ):
            if failure is not None:
                notices.extend(self._tell_model_down(failure))
                return None
            text = partial
            if len(text) > limit:
                break  # already too long to be one question: stop waiting for it
        text = text.strip().strip('"“”').strip()
        ok = usable_question(
            text,
            source=source or "",
            max_chars=limit,
            min_overlap=self.settings.interview.question_min_overlap if source else 0.0,
            language=self.config.language,
            must_mention=must_mention,
        )
        if not ok:
            logger.debug("the model's phrasing %r is unusable: the shown text stays", text[:80])
        return text if ok else None

    async def _stream(
        self,
        prompt: ChatPromptTemplate,
        values: dict[str, str],
        max_tokens: int,
        stop: list[str] | None = None,
    ) -> AsyncIterator[tuple[str, str | None]]:
        """Yield (text so far, None) per chunk; on failure one ("", message) and stop."""
        model = self.services.chat_model
        if model is None or self.model_down:
            yield "", ""
            return
        try:
            options: dict[str, object] = {"stop": stop} if stop else {}
            if _takes_max_tokens(model):
                options["max_tokens"] = max_tokens
            bound = model.bind(**options) if options else model
            text = ""
            async for chunk in (prompt | bound).astream(values):
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if piece:
                    text += piece
                    yield text, None
        except Exception as exc:  # any model failure: carry on without the model
            logger.warning(
                "The chat model failed (%s: %s); the interview goes on without it",
                type(exc).__name__,
                exc,
            )
            if "Connection" in type(exc).__name__ or "Timeout" in type(exc).__name__:
                self.model_down = True
            yield "", model_failure(exc, self.settings)

    def _model_ready(self) -> bool:
        return self.services.chat_model is not None and not self.model_down

    async def _advise(
        self, turn: Turn, index: int, card: QuestionCard, grade: Grade
    ) -> AsyncIterator[Event]:
        """The advice, streamed into its place under the grade: the strongest part at
        once, then the model's sentence about the point worth adding (the card's own
        sentence when the model is down or writes nothing usable)."""
        language = self.config.language
        opening = advice_opening(grade, language) + ("" if language == "zh" else " ")
        yield Event(kind="advice", text=opening, done=False, turn=index)
        values = advice_values(
            turn.text, card, grade, turn.answer or "", self._say("language_name"), self.settings
        )
        sentence = ""
        if values is not None:
            async for partial, failure in self._stream(
                chat_prompt("interview_advice"),
                values,
                self.settings.interview.advice_max_tokens,
                stop=["\n"],
            ):
                if failure is not None:
                    for event in self._tell_model_down(failure):
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
        self.services.store.add_coaching(turn.answer_id, "advice", text)
        yield Event(kind="advice", text=text, turn=index)

    def _tell_model_down(self, failure: str | None) -> list[Event]:
        """Say once per session that the model is unavailable ('' = no model at all)."""
        if self._told_model_down or failure == "":
            return []
        self._told_model_down = True
        return [Event(kind="notice", text=failure or unavailable_message(self.settings))]

    def _say(self, key: str, **values: object) -> str:
        """The engine's own sentence ``key`` in the interview's language."""
        return phrase(self.config.language, key, **values)

    def _pick(self, key: str, **values: object) -> str:
        """One of the sentences ``key`` lists, by the session's seeded random choice (a
        templated follow-up that is always the same sentence reads like a machine)."""
        options = phrase_variants(self.config.language, key)
        return self.rng.choice(options).format(**values)


def _takes_max_tokens(model: BaseChatModel) -> bool:
    return "max_tokens" in type(model).model_fields


def reference_text(card: QuestionCard) -> str:
    """The reference answer as shown after a reveal: answer, key points, sources."""
    parts = [card.answer.strip()] if card.answer.strip() else []
    if card.key_points and not parts:
        parts.append("\n".join(f"- {p.text()}" for p in card.key_points))
    if card.analysis.strip():
        parts.append(card.analysis.strip())
    return "\n\n".join(parts)
