"""How long a candidate waits in a mock interview: time to the first streamed token of
a question or follow-up, time to the whole question, and time from submitting an answer
to its grade (the rubric's provisional grade, then the final one with the judge's
verdict). Runs the real engine against the configured model server and index; the
history goes to a throw-away store so the user's own history is untouched."""

from __future__ import annotations

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
    turn: int
    kind: str
    first_token_s: float | None
    """None when nothing was streamed (model down, or rephrasing off)."""
    complete_s: float


class GradeTiming(BaseModel):
    turn: int
    first_grade_s: float | None = None
    """When the rubric's provisional grade was shown (None: no judge, the grade is final)."""
    grade_s: float
    score: float
    flags: list[str]


class InterviewBench(BaseModel):
    model: str
    base_url: str
    questions: list[Timing]
    grades: list[GradeTiming]

    def summary(self) -> dict[str, float | None]:
        def median(values: list[float]) -> float | None:
            return round(statistics.median(values), 3) if values else None

        first = [q.first_token_s for q in self.questions if q.first_token_s is not None]
        return {
            "first_token_s_median": median(first),
            "question_complete_s_median": median([q.complete_s for q in self.questions]),
            "first_grade_s_median": median(
                [g.first_grade_s for g in self.grades if g.first_grade_s is not None]
            ),
            "grade_s_median": median([g.grade_s for g in self.grades]),
            "grade_s_max": max((g.grade_s for g in self.grades), default=None),
        }


async def _timed(
    events: AsyncIterator[Event], turn: int, questions: list[Timing], grades: list[GradeTiming]
) -> None:
    started = time.perf_counter()
    first: float | None = None
    grading_started = started
    provisional: float | None = None
    async for event in events:
        now = time.perf_counter() - started
        if event.kind in ("question", "follow_up"):
            if not event.done and first is None:
                first = now
            if event.done:
                questions.append(
                    Timing(turn=turn, kind=event.kind, first_token_s=first, complete_s=now)
                )
        elif event.kind == "grading":
            grading_started, provisional = time.perf_counter(), None
        elif event.kind == "grade" and not event.done:
            provisional = time.perf_counter() - grading_started
        elif event.kind == "grade" and event.grade is not None:
            grades.append(
                GradeTiming(
                    turn=turn,
                    first_grade_s=provisional,
                    grade_s=time.perf_counter() - grading_started,
                    score=event.grade.score,
                    flags=event.grade.flags,
                )
            )
            # the next question's clock starts when the grade is shown
            started, first = time.perf_counter(), None


async def bench_interview(
    settings: Settings, turns: int = 4, topic: str | None = None
) -> InterviewBench:
    from coach.corpus.catalog import load_corpus
    from coach.grading.grader import Grader
    from coach.index.ingest import corpus_path
    from coach.index.retriever import HybridSearcher
    from coach.llm.client import make_chat_model

    with tempfile.TemporaryDirectory() as scratch:
        services = Services(
            settings=settings,
            cards=load_corpus(corpus_path(settings)).cards,
            grader=Grader(settings),
            store=HistoryStore(Path(scratch) / "bench.sqlite3", settings),
            chat_model=make_chat_model(settings),
            searcher=HybridSearcher(settings),
        )
        engine = InterviewEngine(services, InterviewConfig(topic=topic, questions=turns), seed=0)
        questions: list[Timing] = []
        grades: list[GradeTiming] = []
        await _timed(engine.start(), 0, questions, grades)
        turn = 0
        while engine.phase in ("awaiting_answer", "awaiting_follow_up") and turn < turns:
            turn += 1
            card = services.cards_by_id[engine.current_turn.card_id]
            # a partial answer: the first key point, so the grader finds missed points
            first = card.key_points[0].text() if card.key_points else card.title
            await _timed(engine.answer(first), turn, questions, grades)
    return InterviewBench(
        model=settings.llm_model, base_url=settings.llm_base_url, questions=questions, grades=grades
    )
