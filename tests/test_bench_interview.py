"""Several candidates at once on one set of services (as N browser sessions of one
`coach ui`): each sees only its own interview, a slow grade of one does not hold the
others, and the bench's clocks read what a candidate sees."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from coach.bench.interview import GradeTiming, InterviewBench, Timing, WritingTiming, _candidate
from coach.config import Settings
from coach.grading.models import Grade
from coach.interview.engine import InterviewEngine, Services
from coach.interview.models import InterviewConfig
from coach.store.history import HistoryStore
from tests.interview_fakes import CARDS, KeywordGrader, recording_model


class SlowGrader(KeywordGrader):
    """Each grade takes ``delay`` seconds of waiting (a model call), not of CPU."""

    def __init__(self, delay: float) -> None:
        super().__init__(CARDS, provisional=True)
        self.delay = delay

    async def astages(self, question, answer, **kw) -> AsyncIterator[tuple[Grade, bool]]:  # noqa: ANN001, ANN003
        async for grade, final in super().astages(question, answer, **kw):
            if final:
                await asyncio.sleep(self.delay)
            yield grade, final


def test_candidates_at_once_keep_their_own_state_and_do_not_wait_for_each_other(
    tmp_path: Path, settings: Settings
) -> None:
    delay, users, turns = 0.3, 4, 3
    services = Services(
        settings=settings,
        cards=CARDS,
        grader=SlowGrader(delay),
        store=HistoryStore(tmp_path / "h.sqlite3", settings),
        chat_model=None,
    )
    engines = [
        InterviewEngine(services, InterviewConfig(questions=2, language="en"), seed=n)
        for n in range(users)
    ]
    questions: list[Timing] = []
    grades: list[GradeTiming] = []
    writing: list[WritingTiming] = []

    async def everyone() -> float:
        started = asyncio.get_running_loop().time()
        await asyncio.gather(
            *(_candidate(e, n, turns, questions, grades, writing) for n, e in enumerate(engines))
        )
        return asyncio.get_running_loop().time() - started

    elapsed = asyncio.run(everyone())
    # serial grading would take users * turns * delay; at once, about turns * delay
    assert elapsed < users * turns * delay * 0.6
    assert len(grades) == users * turns
    assert len({e.session_id for e in engines}) == users, "one session each"
    for engine in engines:
        answered = [t for t in engine.turns if t.answer is not None]
        assert len(answered) == turns, "each engine holds its own turns only"
        assert all(
            t.grade is not None and t.grade.feedback == f"feedback for {t.answer[:20]}"
            for t in answered
        ), "each grade belongs to its own answer"
    counts = services.store.counts()
    assert counts["sessions"] == users and counts["answers"] == users * turns

    bench = InterviewBench(
        model="fake",
        base_url="-",
        users=users,
        questions=questions,
        grades=grades,
        writing=writing,
    )
    summary = bench.summary()
    assert summary["users"] == users
    assert summary["question_visible_s_median"] < 0.1, "without a model the card's text at once"
    assert summary["grade_s_median"] >= delay
    # without a model the program writes the advice and composes the stronger answer
    assert {w.kind for w in writing} == {"advice", "stronger"}
    assert summary["stronger_first_words_s_median"] < 0.1, "composed at once"
    assert summary["first_grade_s_median"] < delay, "the provisional grade comes first"
    assert summary["revised_share"] == 0.0


def test_the_advice_and_the_stronger_answer_are_timed(tmp_path: Path, settings: Settings) -> None:
    model = recording_model(["Q?", "Explain why early stopping works."])
    services = Services(
        settings=settings,
        cards=CARDS,
        grader=SlowGrader(0.0),
        store=HistoryStore(tmp_path / "h.sqlite3", settings),
        chat_model=model,
    )
    engine = InterviewEngine(services, InterviewConfig(questions=2, language="en"), seed=1)
    questions: list[Timing] = []
    grades: list[GradeTiming] = []
    writing: list[WritingTiming] = []
    asyncio.run(_candidate(engine, 0, 1, questions, grades, writing))
    assert [w.kind for w in writing] == ["advice", "stronger"]
    assert all(w.first_words_s is not None and w.first_words_s <= w.complete_s for w in writing)
    assert writing[0].chars > len("Explain why early stopping works.")
    summary = InterviewBench(
        model="fake", base_url="-", users=1, questions=questions, grades=grades, writing=writing
    ).summary()
    assert summary["stronger_complete_s_median"] is not None
