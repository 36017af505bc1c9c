"""How long candidates wait in a mock interview, alone and several at once: from
pressing start (or seeing a grade) to the next question or follow-up on screen, and from
submitting an answer to its provisional and final grade; from the grade to the
model's advice (first words, all of it) and from the 更好的回答 click to the stronger
answer (first words, all of it). Runs the real engine against the
configured model server and index; N candidates share one set of services (one grader,
one store), as N browser sessions of one `coach ui` do. The history goes to a throw-away
store so the user's own history is untouched."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import BaseModel

from coach.config import Settings
from coach.interview.engine import InterviewEngine, Services
from coach.interview.models import Event, InterviewConfig
from coach.store.history import HistoryStore


class Timing(BaseModel):
    user: int
    turn: int
    kind: str
    visible_s: float
    """From start (or from the previous grade on screen) to the question on screen."""
    complete_s: float
    """To its last version: the model's phrasing when it replaced the text in time."""
    revised: bool


class GradeTiming(BaseModel):
    user: int
    turn: int
    first_grade_s: float | None = None
    """When the rubric's provisional grade was shown (None: no LLM, the grade is final)."""
    grade_s: float
    score: float
    flags: list[str]


class WritingTiming(BaseModel):
    """The model writing for the candidate: advice after a grade, a stronger answer."""

    user: int
    turn: int
    kind: str
    first_words_s: float | None
    """From the grade on screen (advice) or the click (stronger) to the first words."""
    complete_s: float
    chars: int


class InterviewBench(BaseModel):
    model: str
    base_url: str
    users: int
    questions: list[Timing]
    grades: list[GradeTiming]
    writing: list[WritingTiming] = []

    def summary(self) -> dict[str, float | int | None]:
        def median(values: list[float]) -> float | None:
            return round(statistics.median(values), 3) if values else None

        def of(kind: str) -> list[Timing]:
            return [q for q in self.questions if q.kind == kind]

        def written(kind: str) -> list[WritingTiming]:
            return [w for w in self.writing if w.kind == kind]

        asked = of("question") + of("follow_up")
        summary: dict[str, float | int | None] = {
            "users": self.users,
            "question_visible_s_median": median([q.visible_s for q in of("question")]),
            "follow_up_visible_s_median": median([q.visible_s for q in of("follow_up")]),
            "revised_share": round(sum(q.revised for q in asked) / len(asked), 3)
            if asked
            else None,
            "first_grade_s_median": median(
                [g.first_grade_s for g in self.grades if g.first_grade_s is not None]
            ),
            "grade_s_median": median([g.grade_s for g in self.grades]),
            "grade_s_max": max((g.grade_s for g in self.grades), default=None),
        }
        for kind in ("advice", "stronger"):
            done = written(kind)
            firsts = [w.first_words_s for w in done if w.first_words_s is not None]
            summary[f"{kind}_first_words_s_median"] = median(firsts)
            summary[f"{kind}_complete_s_median"] = median([w.complete_s for w in done])
        return summary


async def _timed(
    events: AsyncIterator[Event],
    user: int,
    turn: int,
    questions: list[Timing],
    grades: list[GradeTiming],
    writing: list[WritingTiming] | None = None,
) -> None:
    started = time.perf_counter()
    shown: dict[int | None, Timing] = {}
    written: dict[str, float] = {}  # kind -> when its clock started
    first: dict[str, float] = {}
    if writing is not None:
        written["stronger"] = started
    grading_started = started
    provisional: float | None = None
    async for event in events:
        now = time.perf_counter() - started
        if event.kind in ("question", "follow_up") and event.done:
            if event.revised and event.turn in shown:
                shown[event.turn].complete_s, shown[event.turn].revised = now, True
            elif event.turn not in shown:
                shown[event.turn] = Timing(
                    user=user, turn=turn, kind=event.kind, visible_s=now, complete_s=now,
                    revised=False,
                )  # fmt: skip
                questions.append(shown[event.turn])
        elif event.kind == "grading":
            grading_started, provisional = time.perf_counter(), None
        elif event.kind == "grade" and not event.done:
            provisional = time.perf_counter() - grading_started
        elif event.kind == "grade" and event.grade is not None:
            grades.append(
                GradeTiming(
                    user=user,
                    turn=turn,
                    first_grade_s=provisional,
                    grade_s=time.perf_counter() - grading_started,
                    score=event.grade.score,
                    flags=event.grade.flags,
                )
            )
            started = time.perf_counter()  # the next question's clock starts at the grade
            written["advice"] = started
        elif event.kind in ("advice", "stronger") and writing is not None:
            clock = written.get(event.kind, started)
            if event.text and event.kind not in first:
                first[event.kind] = time.perf_counter() - clock
            if event.done:
                writing.append(
                    WritingTiming(
                        user=user,
                        turn=turn,
                        kind=event.kind,
                        first_words_s=first.pop(event.kind, None),
                        complete_s=time.perf_counter() - clock,
                        chars=len(event.text),
                    )
                )


async def _candidate(
    engine: InterviewEngine,
    user: int,
    turns: int,
    questions: list[Timing],
    grades: list[GradeTiming],
    writing: list[WritingTiming],
) -> None:
    await _timed(engine.start(), user, 0, questions, grades)
    turn = 0
    while engine.phase in ("awaiting_answer", "awaiting_follow_up") and turn < turns:
        turn += 1
        assert engine.current_turn is not None
        card = engine.services.cards_by_id[engine.current_turn.card_id]
        # a partial answer: the first key point, so the grader finds missed points
        first = card.key_points[0].text() if card.key_points else card.title
        main = engine.current_turn.kind == "main"
        await _timed(engine.answer(first), user, turn, questions, grades, writing)
        if main and turn == 1:  # the candidate asks once for a stronger answer
            await _timed(engine.stronger_answer(), user, turn, questions, grades, writing)


async def bench_interview(
    settings: Settings, turns: int = 4, topic: str | None = None, users: int = 1
) -> InterviewBench:
    from coach.corpus.catalog import load_corpus
    from coach.grading.grader import Grader
    from coach.index.retriever import HybridSearcher
    from coach.interview.prepared import PreparedStore
    from coach.llm.client import make_chat_model

    with tempfile.TemporaryDirectory() as scratch:
        services = Services(
            settings=settings,
            cards=load_corpus(settings.paths.corpus_file).cards,
            grader=Grader(settings),
            store=HistoryStore(Path(scratch) / "bench.sqlite3", settings),
            chat_model=make_chat_model(settings),
            searcher=HybridSearcher(settings),
            prepared=PreparedStore(settings),
        )
        questions: list[Timing] = []
        grades: list[GradeTiming] = []
        writing: list[WritingTiming] = []
        engines = [
            InterviewEngine(services, InterviewConfig(topic=topic, questions=turns), seed=n)
            for n in range(users)
        ]
        await asyncio.gather(
            *(_candidate(e, n, turns, questions, grades, writing) for n, e in enumerate(engines))
        )
    return InterviewBench(
        model=settings.llm.model,
        base_url=settings.llm.base_url,
        users=users,
        questions=questions,
        grades=grades,
        writing=writing,
    )
