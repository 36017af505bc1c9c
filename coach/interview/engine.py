"""The mock-interview state machine, independent of any UI.

Phases: ``idle`` -> ``awaiting_answer`` (a main question is out) -> grade -> either
``awaiting_follow_up`` (coach/interview/decisions.py found a point to probe) or the next
main question -> ... -> ``finished`` (the session report). The PROGRAM decides when to
follow up and when to move on; the words come from the prepared interviewer or templates
(coach/interview/wording.py), the model may phrase where it is fast enough
(coach/interview/model_voice.py), and the advice and stronger answers are coaching
(coach/interview/coaching.py) that never changes the interview's course.

Every action is an async generator of ``Event``s, so a UI can stream model output as it
arrives and a test can collect the events. Nothing typed is lost: the answer is written
to the history store before grading starts, and the grade is added afterwards.
"""

from __future__ import annotations

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
from coach.interview.coaching import Coaching
from coach.interview.decisions import FollowUpPlan, Step
from coach.interview.model_voice import ModelVoice, PhrasingSpeed, model_failure
from coach.interview.models import Event, InterviewConfig, Phase, Turn
from coach.interview.phrases import phrase
from coach.interview.prepared import PreparedStore
from coach.interview.report import SessionReport, build_report
from coach.interview.selection import choose_cards, difficulty_of
from coach.interview.wording import Interviewer, Wording
from coach.interview.written import mark_written
from coach.prompts import chat_prompt
from coach.speech.models import Delivery
from coach.store.history import HistoryStore

logger = logging.getLogger(__name__)

__all__ = ["InterviewEngine", "Passages", "Services", "model_failure", "reference_text"]


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
    prepared: PreparedStore | None = None
    """The prepared interviewer (`coach interviewer prepare`); None: templates only."""
    phrasing_speed: PhrasingSpeed | None = None
    """How fast the model phrased the process's first questions: pass the process's one
    (the UI's) so every session learns from the first; None: this Services' own."""
    cards_by_id: dict[str, QuestionCard] = field(init=False)

    def __post_init__(self) -> None:
        self.cards_by_id = {c.id: c for c in self.cards}
        if self.phrasing_speed is None:
            self.phrasing_speed = PhrasingSpeed(self.settings.interview.live_phrasing_samples)


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
        self.plan = FollowUpPlan()
        self.voice = ModelVoice(
            self.settings, services.chat_model, config.language, services.phrasing_speed
        )
        self.interviewer = Interviewer(self.settings, config.language, self.rng, services.prepared)
        self.coaching = Coaching(
            self.settings, config.language, self.voice, services.store, services.searcher, self._say
        )
        job = config.job
        self.written: dict[str, str] = dict(job.written_origin) if job else {}
        """Card id -> ``generated`` / ``resume`` for the questions a job's plan wrote."""
        self.cards_by_id: dict[str, QuestionCard] = {
            **services.cards_by_id,
            **({c.id: c for c in job.written} if job else {}),
        }
        self._advising = False
        self.summary = ""
        """The model's summary of the finished interview (in ``report()``)."""

    @property
    def model_down(self) -> bool:
        return self.voice.down

    def continue_without_model(self) -> None:
        """Run without the chat model (cards' own text) and do not say so again.

        Why: a caller that found the model server down before the interview (the UI)
        has already told the candidate; the engine's own once-per-session notice would
        repeat it."""
        self.voice.carry_on_without()

    # --- public actions ----------------------------------------------------------------
    async def start(self) -> AsyncIterator[Event]:
        """Choose the cards, open a session in the store, ask the first question."""
        if self.phase != "idle":
            yield Event(kind="notice", text=self._say("notice_started"))
            return
        store = self.services.store
        if self.config.card_ids:  # a plan (coach/jobs) chose the cards and their order
            by_id = self.cards_by_id
            cards, relaxed = [by_id[i] for i in self.config.card_ids if i in by_id], False
        else:
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
            job_id=self.config.job.job_id if self.config.job else None,
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
        card = self.cards_by_id[turn.card_id]
        grade: Grade | None = None
        try:
            async for grade, final in self._grades(turn, card, text):
                grade = self._marked(grade, turn)
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
            self.voice.down = True
            for event in self.voice.tell_down(None):
                yield event
        yield Event(kind="grade", grade=grade, turn=index, delivery=delivery)
        advise = turn.kind == "main" and self.settings.interview.advice
        if advise:  # its place in the chat, under the grade; written after the follow-up
            yield Event(kind="advice", done=False, turn=index)
        if turn.kind == "main":
            if not turn.written:  # a written question is in no bank: not reviewed
                store.record_review(card.id, grade.score)
            self.plan = FollowUpPlan.after_main(grade, text, self.settings)
        else:
            self.plan.after_follow_up(grade, text)
        self._advising = advise  # the model writes the advice, not a live phrasing
        try:
            async for event in self._follow_up_or_next(card):
                yield event
        finally:
            self._advising = False
        if advise:
            async for event in self.coaching.advise(turn, index, card, grade):
                yield event

    async def stronger_answer(self) -> AsyncIterator[Event]:
        """更好的回答 for the last graded main answer (coach/interview/coaching.py)."""
        async for event in self.coaching.stronger(self.turns, self.cards_by_id):
            yield event

    async def hint(self) -> AsyncIterator[Event]:
        """Main question: reveal key-point labels one more at a time. Follow-up: the
        start of the probed point's explanation."""
        if self.phase not in ("awaiting_answer", "awaiting_follow_up"):
            yield Event(kind="notice", text=self._say("notice_no_open_question"))
            return
        index = len(self.turns) - 1
        turn = self.turns[index]
        card = self.cards_by_id[turn.card_id]
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
        card = self.cards_by_id[turn.card_id]
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
        citations, or say at once that the material does not cover it (coach/interview/
        ask.py). Does not change the interview's phase."""
        from coach.interview.ask import ask_coach

        events = ask_coach(
            question,
            self.services.searcher,
            settings=self.settings,
            stream=self.voice.stream,
            say=self._say,
            tell_model_down=self.voice.tell_down,
        )
        async for event in events:
            yield event

    def report(self) -> SessionReport:
        report = build_report(
            self.turns,
            self.cards_by_id,
            session_id=self.session_id,
            config=self.config,
            created_at=self.services.store.clock(),
            pass_score=self.settings.interview.pass_score,
        )
        report.summary = self.summary
        return report

    @property
    def current_turn(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def speech_prompt(self) -> tuple[str | None, list[str]]:
        """The open question and its card's key-point labels and aliases: what a spoken
        answer is likely to contain, for the speech model's prompt."""
        turn = self.current_turn
        if turn is None or turn.answer is not None:
            return None, []
        card = self.cards_by_id.get(turn.card_id)
        points = card.key_points if card else []
        terms = [term for p in points for term in (p.label, p.alias) if term]
        return turn.text, terms

    # --- the program's decisions ------------------------------------------------------
    async def _follow_up_or_next(self, card: QuestionCard) -> AsyncIterator[Event]:
        step: Step = self.plan.next_step(self.settings)
        if step.kind == "next":
            events = self._next_main()
        elif step.kind == "own":  # a strong answer of its own: ask about what it said
            events = self._ask_follow_up(card, [], Wording(step.text or "", prepared=True))
        else:
            targets = [step.target] if step.target else []
            wording = self.interviewer.follow_up(card, step.target, depth=step.kind == "depth")
            if step.kind == "depth" and not wording.prepared:
                targets = []  # a templated depth question asks about the whole answer
            events = self._ask_follow_up(card, targets, wording)
        async for event in events:
            yield event

    async def _next_main(self) -> AsyncIterator[Event]:
        self.index += 1
        self.plan = FollowUpPlan()
        if self.index >= len(self.queue):
            self.phase = "finished"
            self.services.store.end_session(self.session_id)
            yield Event(kind="report", text=self.session_id)
            if self.settings.interview.summary:
                report = self.report()
                async for event in self.coaching.summarize(report):
                    if event.done:  # before it is shown: the UI writes the files then
                        self.summary = event.text
                    yield event
            return
        card = self.queue[self.index]
        wording = self.interviewer.main_question(card)
        index = len(self.turns)
        turn = Turn(
            kind="main",
            card_id=card.id,
            topic=card.topic,
            title=card.title,
            text=wording.text,
            written=self.written.get(card.id, ""),  # type: ignore[arg-type]
        )
        turn.question_id = self.services.store.add_question(
            self.session_id, wording.text, kind="main", card_id=card.id, topic=card.topic
        )
        self.turns.append(turn)
        self.phase = "awaiting_answer"
        yield self._question_event("question", wording.text, index)
        if self.settings.interview.rephrase and not wording.prepared:
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

    def _question_event(self, kind: str, text: str, index: int, revised: bool = False) -> Event:
        """A question as the UI shows it: with its number, the count and its topic."""
        main = sum(1 for t in self.turns[: index + 1] if t.kind == "main")
        return Event(
            kind=kind,  # type: ignore[arg-type]
            text=text,
            turn=index,
            revised=revised,
            number=main,
            total=len(self.queue),
            topic=self.turns[index].topic,
            written=self.turns[index].written,
        )

    async def _ask_follow_up(
        self, card: QuestionCard, targets: list[str], wording: Wording
    ) -> AsyncIterator[Event]:
        main = next(t for t in reversed(self.turns) if t.kind == "main")
        index = len(self.turns)
        self.plan.asked += 1
        turn = Turn(
            kind="follow_up",
            card_id=card.id,
            topic=card.topic,
            title=card.title,
            text=wording.text,
            targets=targets,
            written=main.written,
        )
        turn.question_id = self.services.store.add_question(
            self.session_id,
            wording.text,
            kind="follow_up",
            card_id=card.id,
            topic=card.topic,
            parent_id=main.question_id,
        )
        self.turns.append(turn)
        self.phase = "awaiting_follow_up"
        yield self._question_event("follow_up", wording.text, index)
        if wording.prepared:
            return
        values = {
            "language": self._say("language_name"),
            "question": main.text,
            "answer": main.answer or "",
            "aspect": targets[0] if targets else self._say("depth_aspect"),
        }
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
        elif turn.written:  # in no bank: graded against the points the plan wrote
            stages = grader.astages(card.question, text, reference=reference_from_points(points))
        else:
            stages = grader.astages(card.question, text, card_id=card.id)
        async for stage in stages:
            yield stage

    def _marked(self, grade: Grade, turn: Turn) -> Grade:
        """A written question's grade says so and is less sure (coach/interview/
        written.py); a bank card's is as the grader gave it."""
        if not turn.written:
            return grade
        job = self.config.job
        anchors = job.anchors.get(turn.card_id, []) if job and turn.kind == "main" else []
        return mark_written(grade, turn.answer or "", anchors, self.settings, self._say)

    def _close(self, turn: Turn, outcome: str) -> None:
        store = self.services.store
        turn.outcome = outcome  # type: ignore[assignment]
        store.set_outcome(turn.question_id, outcome)
        if turn.kind == "main" and not turn.written:
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
        shown text (one ``revised`` event) and the stored question."""
        if self._advising or not self.voice.may_phrase(window):
            return
        final, notices = await self.voice.phrase(
            prompt, values, window=window, source=source, must_mention=must_mention
        )
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
        kind = "question" if turn.kind == "main" else "follow_up"
        yield self._question_event(kind, final, index, revised=True)

    def _say(self, key: str, **values: object) -> str:
        """The engine's own sentence ``key`` in the interview's language."""
        return phrase(self.config.language, key, **values)


def reference_text(card: QuestionCard) -> str:
    """The reference answer as shown after a reveal: answer, key points, sources."""
    parts = [card.answer.strip()] if card.answer.strip() else []
    if card.key_points and not parts:
        parts.append("\n".join(f"- {p.text()}" for p in card.key_points))
    if card.analysis.strip():
        parts.append(card.analysis.strip())
    return "\n\n".join(parts)
