"""The SQLite history: migrations run once, answers are kept before grading, reviews."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from coach.config import Settings
from coach.grading.models import Grade
from coach.interview.charts import progress_figure
from coach.store.history import HistoryStore
from coach.store.migrations import MIGRATIONS, migrate


def grade(score: float) -> Grade:
    return Grade(
        score=score,
    )


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_migrations_apply_once_and_are_recorded(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "h.sqlite3"
    HistoryStore(path, settings)
    HistoryStore(path, settings)  # reopening applies nothing twice
    db = sqlite3.connect(path)
    names = [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names == [m.__name__ for m in MIGRATIONS]
    assert migrate(db) == []
    columns = {r[1] for r in db.execute("PRAGMA table_info(answers)")}
    assert "grade_error" in columns


def test_a_failing_migration_leaves_no_trace(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)

    def m999_broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half (x INTEGER)")
        conn.execute("THIS IS NOT SQL")

    MIGRATIONS.append(m999_broken)
    try:
        try:
            migrate(db)
        except sqlite3.OperationalError:
            pass
        else:
            raise AssertionError("the broken migration should raise")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "half" not in tables and "sessions" in tables
        done = {r[0] for r in db.execute("SELECT name FROM _migrations")}
        assert "m999_broken" not in done and "m001_initial" in done
    finally:
        MIGRATIONS.remove(m999_broken)


def test_answer_is_stored_without_grade_then_graded(tmp_path: Path, settings: Settings) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3", settings)
    session = store.start_session(topic="评估", difficulty="any", planned=1, language="zh")
    question = store.add_question(session, "Q?", card_id="c1", topic="评估")
    answer = store.add_answer(question, "my answer")
    assert store.answers_for(question) == [
        {"answer_id": answer, "text": "my answer", "grade_error": None, "grade": None}
    ]
    store.add_grade(answer, grade(7.5))
    assert store.answers_for(question)[0]["grade"].score == 7.5
    rows = store.sessions()
    assert rows[0].answered == 1 and rows[0].mean_score == 7.5


def test_review_boxes_move_up_on_pass_and_back_on_fail(tmp_path: Path, settings: Settings) -> None:
    clock = Clock()
    store = HistoryStore(tmp_path / "h.sqlite3", settings, clock=clock)
    first = store.record_review("c1", 9.0)
    assert first.box == 2 and first.due_at == clock.now + timedelta(days=1)
    clock.now += timedelta(days=2)
    assert [r.card_id for r in store.due_cards()] == ["c1"]
    second = store.record_review("c1", 8.0)
    assert second.box == 3 and second.due_at == clock.now + timedelta(days=3)
    assert store.due_cards() == []
    failed = store.record_review("c1", 2.0)
    assert failed.box == 1 and failed.due_at == clock.now
    skipped = store.record_review("c2", None)
    assert skipped.box == 1
    top = len(settings.interview.review_intervals_days)
    for _ in range(top + 3):
        last = store.record_review("c3", 10.0)
    assert last.box == top, "the top box is a ceiling"


def test_topic_progress_over_sessions_and_its_plot(tmp_path: Path, settings: Settings) -> None:
    clock = Clock()
    store = HistoryStore(tmp_path / "h.sqlite3", settings, clock=clock)
    for day, scores in enumerate(([2.0, 4.0], [8.0])):
        clock.now += timedelta(days=day)
        session = store.start_session(topic=None, difficulty="any", planned=2, language="zh")
        for score in scores:
            q = store.add_question(session, "Q", card_id="c", topic="评估")
            store.add_grade(store.add_answer(q, "a"), grade(score))
        follow = store.add_question(session, "F", kind="follow_up", topic="评估", parent_id=q)
        store.add_grade(store.add_answer(follow, "a"), grade(0.0))  # follow-ups don't count
    points = store.topic_progress()
    assert [(p.topic, p.mean_score, p.answers) for p in points] == [
        ("评估", 3.0, 2),
        ("评估", 8.0, 1),
    ]
    fig = progress_figure(points)
    assert len(fig.axes[0].lines) == 1
    assert list(fig.axes[0].lines[0].get_ydata()) == [3.0, 8.0]
