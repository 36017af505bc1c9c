"""The interview history: write-ahead of everything else, so nothing typed is lost.

The engine writes a question when it is asked and an answer *before* grading starts;
the grade is added afterwards. A model failure, a grader crash or a closed browser tab
therefore loses no answer: it is on disk, just without a grade (``grade_error`` says why
when the grader failed).

One connection per call keeps the store safe to share between Gradio's worker threads
(sqlite3 connections are not); SQLite's own locking serialises writers.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from coach.config import Settings
from coach.grading.models import Grade
from coach.store.migrations import migrate

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Review(BaseModel):
    card_id: str
    box: int
    due_at: datetime
    last_score: float | None
    reviewed_at: datetime


class ProgressPoint(BaseModel):
    """Mean main-question score of one topic in one session."""

    session_id: str
    started_at: datetime
    topic: str
    mean_score: float
    answers: int


class SessionRow(BaseModel):
    id: str
    started_at: datetime
    ended_at: datetime | None
    topic: str | None
    difficulty: str | None
    planned_questions: int
    answered: int
    mean_score: float | None


class HistoryStore:
    """Everything the interview engine and the history tab read and write."""

    def __init__(self, path: Path, settings: Settings, clock: Clock = utc_now) -> None:
        self.path = path
        self.settings = settings
        self.clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            migrate(db)

    @classmethod
    def open(cls, settings: Settings, clock: Clock = utc_now) -> HistoryStore:
        return cls(settings.paths.history_db, settings, clock)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            yield db
        finally:
            db.close()

    def _now(self) -> str:
        return self.clock().isoformat()

    # --- writes (each one commits before returning) -------------------------------------
    def start_session(
        self, *, topic: str | None, difficulty: str | None, planned: int, language: str
    ) -> str:
        session_id = uuid.uuid4().hex
        with self._db() as db:
            db.execute(
                "INSERT INTO sessions (id, started_at, topic, difficulty, planned_questions,"
                " language) VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, self._now(), topic, difficulty, planned, language),
            )
        return session_id

    def end_session(self, session_id: str) -> None:
        with self._db() as db:
            db.execute(
                "UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
                (self._now(), session_id),
            )

    def add_question(
        self,
        session_id: str,
        text: str,
        *,
        kind: str = "main",
        card_id: str | None = None,
        topic: str | None = None,
        parent_id: int | None = None,
    ) -> int:
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO questions (session_id, parent_id, kind, card_id, topic, text,"
                " asked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session_id, parent_id, kind, card_id, topic, text, self._now()),
            )
            return int(cursor.lastrowid or 0)

    def revise_question(self, question_id: int, text: str) -> None:
        """The model's phrasing replaced the card's text while the candidate read it."""
        with self._db() as db:
            db.execute("UPDATE questions SET text = ? WHERE id = ?", (text, question_id))

    def set_outcome(self, question_id: int, outcome: str) -> None:
        """answered / skipped / revealed."""
        with self._db() as db:
            db.execute("UPDATE questions SET outcome = ? WHERE id = ?", (outcome, question_id))

    def add_answer(self, question_id: int, text: str) -> int:
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO answers (question_id, text, answered_at) VALUES (?, ?, ?)",
                (question_id, text, self._now()),
            )
            return int(cursor.lastrowid or 0)

    def add_grade(self, answer_id: int, grade: Grade) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO grades (answer_id, score, evidence, content_depth, llm_score,"
                " confidence, grade_json, graded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    answer_id,
                    grade.score,
                    grade.evidence,
                    grade.depth,
                    grade.llm_score,
                    grade.confidence,
                    grade.model_dump_json(),
                    self._now(),
                ),
            )

    def add_grade_error(self, answer_id: int, error: str) -> None:
        with self._db() as db:
            db.execute("UPDATE answers SET grade_error = ? WHERE id = ?", (error, answer_id))

    def record_review(self, card_id: str, score: float | None) -> Review:
        """Move the card between Leitner boxes: a pass goes up one box, a fail (None for
        a skip or a reveal) back to box 1; the box's interval sets the next due date."""
        intervals = self.settings.interview.review_intervals_days
        now = self.clock()
        current = self.review(card_id)
        passed = score is not None and score >= self.settings.interview.pass_score
        box = min((current.box if current else 1) + 1, len(intervals)) if passed else 1
        due = now + timedelta(days=intervals[box - 1])
        with self._db() as db:
            db.execute(
                "INSERT INTO reviews (card_id, box, due_at, last_score, reviewed_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(card_id) DO UPDATE SET box = excluded.box,"
                " due_at = excluded.due_at, last_score = excluded.last_score,"
                " reviewed_at = excluded.reviewed_at",
                (card_id, box, due.isoformat(), score, now.isoformat()),
            )
        return Review(card_id=card_id, box=box, due_at=due, last_score=score, reviewed_at=now)

    # --- reads -------------------------------------------------------------------------
    def review(self, card_id: str) -> Review | None:
        with self._db() as db:
            row = db.execute(
                "SELECT card_id, box, due_at, last_score, reviewed_at FROM reviews"
                " WHERE card_id = ?",
                (card_id,),
            ).fetchone()
        return _review(row) if row else None

    def reviews(self) -> dict[str, Review]:
        with self._db() as db:
            rows = db.execute(
                "SELECT card_id, box, due_at, last_score, reviewed_at FROM reviews"
            ).fetchall()
        return {r[0]: _review(r) for r in rows}

    def due_cards(self, now: datetime | None = None) -> list[Review]:
        """Cards due for review, most overdue and lowest box first."""
        now = now or self.clock()
        due = [r for r in self.reviews().values() if r.due_at <= now]
        return sorted(due, key=lambda r: (r.box, r.due_at))

    def answers_for(self, question_id: int) -> list[dict[str, object]]:
        """Answers to one question with their grade (None until graded)."""
        with self._db() as db:
            rows = db.execute(
                "SELECT a.id, a.text, a.grade_error, g.grade_json FROM answers a"
                " LEFT JOIN grades g ON g.answer_id = a.id WHERE a.question_id = ?"
                " ORDER BY a.id",
                (question_id,),
            ).fetchall()
        return [
            {
                "answer_id": r[0],
                "text": r[1],
                "grade_error": r[2],
                "grade": Grade.model_validate_json(r[3]) if r[3] else None,
            }
            for r in rows
        ]

    def sessions(self, limit: int = 50) -> list[SessionRow]:
        with self._db() as db:
            rows = db.execute(
                "SELECT s.id, s.started_at, s.ended_at, s.topic, s.difficulty,"
                " s.planned_questions, COUNT(g.id), AVG(g.score) FROM sessions s"
                " LEFT JOIN questions q ON q.session_id = s.id AND q.kind = 'main'"
                " LEFT JOIN answers a ON a.question_id = q.id"
                " LEFT JOIN grades g ON g.answer_id = a.id"
                " GROUP BY s.id ORDER BY s.started_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            SessionRow(
                id=r[0],
                started_at=datetime.fromisoformat(r[1]),
                ended_at=datetime.fromisoformat(r[2]) if r[2] else None,
                topic=r[3],
                difficulty=r[4],
                planned_questions=r[5],
                answered=r[6],
                mean_score=r[7],
            )
            for r in rows
        ]

    def topic_progress(self) -> list[ProgressPoint]:
        """Per session and topic, the mean score of graded main questions, oldest first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT s.id, s.started_at, COALESCE(q.topic, ''), AVG(g.score), COUNT(g.id)"
                " FROM grades g JOIN answers a ON a.id = g.answer_id"
                " JOIN questions q ON q.id = a.question_id"
                " JOIN sessions s ON s.id = q.session_id"
                " WHERE q.kind = 'main' GROUP BY s.id, q.topic ORDER BY s.started_at",
            ).fetchall()
        return [
            ProgressPoint(
                session_id=r[0],
                started_at=datetime.fromisoformat(r[1]),
                topic=r[2],
                mean_score=r[3],
                answers=r[4],
            )
            for r in rows
        ]

    def counts(self) -> dict[str, int]:
        """Rows per table (for tests and the history tab's summary line)."""
        with self._db() as db:
            return {
                table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("sessions", "questions", "answers", "grades", "reviews")
            }


def _review(row: tuple) -> Review:
    return Review(
        card_id=row[0],
        box=row[1],
        due_at=datetime.fromisoformat(row[2]),
        last_score=row[3],
        reviewed_at=datetime.fromisoformat(row[4]),
    )
