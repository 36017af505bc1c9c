"""The interview history: write-ahead of everything else, so nothing typed is lost.

The engine writes a question when it is asked and an answer *before* grading starts;
the grade is added afterwards. A model failure, a grader crash or a closed browser tab
therefore loses no answer: it is on disk, just without a grade (``grade_error`` says why
when the grader failed).

One connection per call keeps the store safe to share between Gradio's worker threads
(sqlite3 connections are not); SQLite's own locking serialises writers.

What the file itself can do wrong (coach/store/pending.py has the why of the first):
- held by another program: a write waits ``COACH_HISTORY_BUSY_TIMEOUT`` seconds, then is
  kept in the pending file and replayed at the next start or write; ``notices`` says so;
- damaged (not a database, malformed): moved aside as ``history.sqlite3.corrupt-<time>``
  and a fresh history started, said in ``notices``;
- written by a newer coach (schema steps unknown here): refused when the store opens
  (``HistoryError``), before anything is written to it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from coach.config import Settings
from coach.grading.models import Grade
from coach.store.migrations import NewerSchema, migrate
from coach.store.pending import PendingWrite, PendingWrites

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]
_T = TypeVar("_T")
_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_DAMAGED_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_SIDECARS = ("-journal", "-wal", "-shm")
_RAISE = object()


class HistoryError(RuntimeError):
    """The history file cannot be used; the message says why and what to do."""


class HistoryBusy(HistoryError):
    """Another program holds the history database; reading it has to wait."""


def _code(exc: sqlite3.Error) -> int:
    return (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def _is_busy(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        _code(exc) in _BUSY_CODES or "locked" in str(exc)
    )


def _is_damaged(exc: sqlite3.Error) -> bool:
    return _code(exc) in _DAMAGED_CODES or "not a database" in str(exc) or "malformed" in str(exc)


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


class JobRow(BaseModel):
    """A job the candidate interviewed for: the JD and résumé as they pasted them."""

    id: str
    title: str
    jd: str
    resume: str = ""
    created_at: datetime
    used_at: datetime
    sessions: int = 0


class SessionRow(BaseModel):
    id: str
    started_at: datetime
    ended_at: datetime | None
    topic: str | None
    difficulty: str | None
    planned_questions: int
    answered: int
    mean_score: float | None
    job: str | None = None
    """The title of the job the session was planned for."""


class HistoryStore:
    """Everything the interview engine and the history tab read and write."""

    def __init__(self, path: Path, settings: Settings, clock: Clock = utc_now) -> None:
        self.path = path
        self.settings = settings
        self.clock = clock
        self.notices: list[str] = []
        """What the candidate should be told (the chat shows them): writes kept aside
        while the database was busy, a damaged file moved aside, a replay done."""
        self._ids: dict[int, int] = {}
        """Local ids of rows inserted while busy -> their rowids once replayed."""
        self._ready = False
        self._told_busy = False
        self._lock = threading.RLock()
        self.pending = PendingWrites(
            path.with_name(path.name + settings.storage.history_pending_suffix)
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._open()
            self._replay(wait=True)

    @classmethod
    def open(cls, settings: Settings, clock: Clock = utc_now) -> HistoryStore:
        return cls(settings.paths.history_db, settings, clock)

    @contextmanager
    def _db(self, timeout: float | None = None) -> Iterator[sqlite3.Connection]:
        wait = self.settings.storage.history_busy_timeout if timeout is None else timeout
        db = sqlite3.connect(self.path, isolation_level=None, timeout=wait)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            yield db
        finally:
            db.close()

    def _open(self, timeout: float | None = None) -> None:
        """Migrate (once per store); a busy file leaves the store not ready (writes go to
        the pending file), a damaged one is moved aside, a newer one refused."""
        if self._ready:
            return
        try:
            with self._db(timeout) as db:
                migrate(db)
                problem = db.execute("PRAGMA quick_check").fetchone()[0]
                if problem != "ok":
                    raise sqlite3.DatabaseError(f"database disk image is malformed ({problem})")
        except NewerSchema as exc:
            raise HistoryError(
                f"The history file {self.path} was written by a newer version of coach (its "
                f"schema has the steps {exc}, which this version does not know), so it is "
                "not used: update coach, or set COACH_DATA_DIR to another folder. The file "
                "was not changed."
            ) from exc
        except sqlite3.DatabaseError as exc:
            if _is_busy(exc):
                logger.warning("The history %s is busy; writes wait in the pending file", self.path)
                return
            if not _is_damaged(exc):
                raise
            self._set_aside(exc)
            with self._db(timeout) as db:
                migrate(db)
        self._ready = True

    def _set_aside(self, exc: sqlite3.Error) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        os.replace(self.path, target)
        for sidecar in _SIDECARS:
            extra = self.path.with_name(self.path.name + sidecar)
            if extra.exists():
                os.replace(extra, target.with_name(target.name + sidecar))
        message = (
            f"The interview history file was damaged ({exc}); it was moved to {target.name} "
            "beside it, and a new, empty history was started."
        )
        logger.warning("%s (%s)", message, target)
        self.notices.append(message)

    def _now(self) -> str:
        return self.clock().isoformat()

    def take_notices(self) -> list[str]:
        """The notices not yet shown, once each."""
        with self._lock:
            notices, self.notices = self.notices, []
        return notices

    # --- the write path: straight in, or kept aside while the database is busy ---------
    def _resolve(self, params: list[Any], ids: list[int]) -> list[Any] | None:
        """``params`` with local ids replaced by rowids; None when one is not known yet."""
        resolved = list(params)
        for i in ids:
            value = resolved[i]
            if isinstance(value, int) and value < 0:
                if value not in self._ids:
                    return None
                resolved[i] = self._ids[value]
        return resolved

    def _write(
        self, kind: str, sql: str, params: list[Any], ids: tuple[int, ...] = (), insert=False
    ) -> int:
        """Run one write and return its rowid; when the database stays busy past the
        bounded wait (or earlier writes still wait), keep it in the pending file and
        return a local id instead. Never loses the write."""
        with self._lock:
            if self.pending.exists():
                self._replay(wait=False)
            if not self._ready:
                self._open(timeout=0 if self.pending.exists() else None)
            resolved = self._resolve(params, list(ids))
            if self._ready and resolved is not None and not self.pending.exists():
                try:
                    with self._db() as db:
                        cursor = db.execute(sql, resolved)
                        self._told_busy = False
                        return int(cursor.lastrowid or 0)
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc):
                        raise
            local = self.pending.add(kind, sql, params, list(ids), insert)
            self._tell_busy(kind)
            return local

    def _tell_busy(self, kind: str) -> None:
        if self._told_busy:
            return
        self._told_busy = True
        what = "your answer" if kind == "add_answer" else "the interview's progress"
        self.notices.append(
            f"The history database is in use by another program; {what} is kept in "
            f"{self.pending.path.name} beside it and will be added to the history as soon "
            "as it is free (at the latest when coach starts again). Nothing is lost."
        )

    def _replay(self, *, wait: bool) -> None:
        """Apply the pending writes in order, in one transaction, each once (the
        ``replayed`` table remembers them); busy: they wait for the next try."""
        writes = self.pending.read()
        if not writes:
            if self.pending.exists():
                self.pending.remove([])
            return
        if not self._ready:
            self._open(timeout=None if wait else 0)
            if not self._ready:
                return
        try:
            with self._db(None if wait else 0) as db:
                db.execute("BEGIN IMMEDIATE")
                try:
                    self._apply(db, writes)
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                return
            self._give_up_replay(exc)
            return
        except sqlite3.DatabaseError as exc:
            self._give_up_replay(exc)
            return
        self.pending.remove(writes)
        answers = sum(w.kind == "add_answer" for w in writes)
        self._told_busy = False
        self.notices.append(
            f"The history database is free again: {len(writes)} writes kept while it was "
            f"busy ({answers} answers) are now in it."
        )

    def _apply(self, db: sqlite3.Connection, writes: list[PendingWrite]) -> None:
        done = {
            op_id: row_id
            for op_id, row_id in db.execute("SELECT op_id, row_id FROM replayed").fetchall()
        }
        for write in writes:
            if write.op_id in done:
                if write.local_id is not None:
                    self._ids[write.local_id] = done[write.op_id]
                continue
            params = self._resolve(write.params, write.ids)
            if params is None:
                logger.warning("A pending %s names a row that was never written", write.kind)
                continue
            cursor = db.execute(write.sql, params)
            row_id = int(cursor.lastrowid or 0) if write.local_id is not None else None
            if write.local_id is not None and row_id is not None:
                self._ids[write.local_id] = row_id
            db.execute("INSERT INTO replayed (op_id, row_id) VALUES (?, ?)", (write.op_id, row_id))

    def _give_up_replay(self, exc: sqlite3.Error) -> None:
        """The pending writes do not fit the database (it was replaced meanwhile): keep
        them in a file of their own rather than retry for ever."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.pending.set_aside(f".failed-{stamp}")
        logger.warning("Pending history writes could not be replayed (%s); kept in %s", exc, target)
        self.notices.append(
            f"Writes kept while the history was busy could not be added to it ({exc}); they "
            f"are kept in {target.name} beside it."
        )

    def _read(self, query: Callable[[sqlite3.Connection], _T], busy: Any = _RAISE) -> _T:
        """Run a read; while the database is busy return ``busy`` when given (a default
        that lets an interview go on), else raise HistoryBusy."""
        with self._lock:
            if not self._ready:
                self._open(timeout=0 if self.pending.exists() else None)
            waiting = self.pending.exists() or not self._ready
        try:
            if not self._ready:
                raise sqlite3.OperationalError("database is locked")
            with self._db(0 if waiting else None) as db:
                return query(db)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            if busy is not _RAISE:
                return busy
            raise HistoryBusy(
                "The interview history is in use by another program right now; try again "
                "in a moment (answers given meanwhile are kept and added when it is free)."
            ) from exc

    # --- writes (each one commits before returning, or waits in the pending file) -----
    def start_session(
        self,
        *,
        topic: str | None,
        difficulty: str | None,
        planned: int,
        language: str,
        job_id: str | None = None,
    ) -> str:
        session_id = uuid.uuid4().hex
        self._write(
            "start_session",
            "INSERT INTO sessions (id, started_at, topic, difficulty, planned_questions,"
            " language, job_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [session_id, self._now(), topic, difficulty, planned, language, job_id or None],
        )
        return session_id

    def save_job(self, title: str, jd: str, resume: str = "") -> str:
        """Keep a job (its id is the hash of its JD, so pasting the same posting again
        is the same job; the title and résumé are the latest)."""
        job_id = hashlib.sha256(jd.strip().encode("utf-8")).hexdigest()[:16]
        now = self._now()
        self._write(
            "save_job",
            "INSERT INTO jobs (id, title, jd, resume, created_at, used_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
            " title = excluded.title, resume = excluded.resume, used_at = excluded.used_at",
            [job_id, title, jd.strip(), resume, now, now],
        )
        return job_id

    def jobs(self, limit: int = 20) -> list[JobRow]:
        """The jobs interviewed for, most recently used first."""
        rows = self._read(
            lambda db: db.execute(
                "SELECT j.id, j.title, j.jd, j.resume, j.created_at, j.used_at, COUNT(s.id)"
                " FROM jobs j LEFT JOIN sessions s ON s.job_id = j.id"
                " GROUP BY j.id ORDER BY j.used_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
        )
        return [
            JobRow(
                id=r[0],
                title=r[1],
                jd=r[2],
                resume=r[3],
                created_at=datetime.fromisoformat(r[4]),
                used_at=datetime.fromisoformat(r[5]),
                sessions=r[6],
            )
            for r in rows
        ]

    def end_session(self, session_id: str) -> None:
        self._write(
            "end_session",
            "UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
            [self._now(), session_id],
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
        return self._write(
            "add_question",
            "INSERT INTO questions (session_id, parent_id, kind, card_id, topic, text,"
            " asked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [session_id, parent_id, kind, card_id, topic, text, self._now()],
            ids=(1,),
            insert=True,
        )

    def revise_question(self, question_id: int, text: str) -> None:
        """The model's phrasing replaced the card's text while the candidate read it."""
        self._write(
            "revise_question",
            "UPDATE questions SET text = ? WHERE id = ?",
            [text, question_id],
            ids=(1,),
        )

    def set_outcome(self, question_id: int, outcome: str) -> None:
        """answered / skipped / revealed."""
        self._write(
            "set_outcome",
            "UPDATE questions SET outcome = ? WHERE id = ?",
            [outcome, question_id],
            ids=(1,),
        )

    def add_answer(self, question_id: int, text: str) -> int:
        return self._write(
            "add_answer",
            "INSERT INTO answers (question_id, text, answered_at) VALUES (?, ?, ?)",
            [question_id, text, self._now()],
            ids=(0,),
            insert=True,
        )

    def add_grade(self, answer_id: int, grade: Grade) -> None:
        self._write(
            "add_grade",
            "INSERT INTO grades (answer_id, score, evidence, content_depth, llm_score,"
            " confidence, grade_json, graded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                answer_id,
                grade.score,
                grade.evidence,
                grade.depth,
                grade.llm_score,
                grade.confidence,
                grade.model_dump_json(),
                self._now(),
            ],
            ids=(0,),
        )

    def add_coaching(self, answer_id: int, kind: str, text: str) -> None:
        """The model's ``advice`` on an answer or its ``stronger`` version of it."""
        self._write(
            "add_coaching",
            "INSERT INTO coaching (answer_id, kind, text, created_at) VALUES (?, ?, ?, ?)",
            [answer_id, kind, text, self._now()],
            ids=(0,),
        )

    def coaching(self, answer_id: int) -> dict[str, str]:
        """Kind -> the latest text the model wrote about this answer."""
        rows = self._read(
            lambda db: db.execute(
                "SELECT kind, text FROM coaching WHERE answer_id = ? ORDER BY id", [answer_id]
            ).fetchall()
        )
        return {kind: text for kind, text in rows}

    def add_grade_error(self, answer_id: int, error: str) -> None:
        self._write(
            "add_grade_error",
            "UPDATE answers SET grade_error = ? WHERE id = ?",
            [error, answer_id],
            ids=(1,),
        )

    def record_review(self, card_id: str, score: float | None) -> Review:
        """Move the card between Leitner boxes: a pass goes up one box, a fail (None for
        a skip or a reveal) back to box 1; the box's interval sets the next due date."""
        intervals = self.settings.interview.review_intervals_days
        now = self.clock()
        current = self.review(card_id)
        passed = score is not None and score >= self.settings.interview.pass_score
        box = min((current.box if current else 1) + 1, len(intervals)) if passed else 1
        due = now + timedelta(days=intervals[box - 1])
        self._write(
            "record_review",
            "INSERT INTO reviews (card_id, box, due_at, last_score, reviewed_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(card_id) DO UPDATE SET box = excluded.box,"
            " due_at = excluded.due_at, last_score = excluded.last_score,"
            " reviewed_at = excluded.reviewed_at",
            [card_id, box, due.isoformat(), score, now.isoformat()],
        )
        return Review(card_id=card_id, box=box, due_at=due, last_score=score, reviewed_at=now)

    # --- reads (while the database is busy: the reviews read as none, others raise) ----
    def review(self, card_id: str) -> Review | None:
        row = self._read(
            lambda db: db.execute(
                "SELECT card_id, box, due_at, last_score, reviewed_at FROM reviews"
                " WHERE card_id = ?",
                (card_id,),
            ).fetchone(),
            busy=None,
        )
        return _review(row) if row else None

    def reviews(self) -> dict[str, Review]:
        rows = self._read(
            lambda db: db.execute(
                "SELECT card_id, box, due_at, last_score, reviewed_at FROM reviews"
            ).fetchall(),
            busy=[],
        )
        return {r[0]: _review(r) for r in rows}

    def due_cards(self, now: datetime | None = None) -> list[Review]:
        """Cards due for review, most overdue and lowest box first."""
        now = now or self.clock()
        due = [r for r in self.reviews().values() if r.due_at <= now]
        return sorted(due, key=lambda r: (r.box, r.due_at))

    def answers_for(self, question_id: int) -> list[dict[str, object]]:
        """Answers to one question with their grade (None until graded)."""
        resolved = self._resolve([question_id], [0])
        if resolved is None:
            return []  # asked while the database was busy: not in it yet
        rows = self._read(
            lambda db: db.execute(
                "SELECT a.id, a.text, a.grade_error, g.grade_json FROM answers a"
                " LEFT JOIN grades g ON g.answer_id = a.id WHERE a.question_id = ?"
                " ORDER BY a.id",
                (resolved[0],),
            ).fetchall()
        )
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
        rows = self._read(
            lambda db: db.execute(
                "SELECT s.id, s.started_at, s.ended_at, s.topic, s.difficulty,"
                " s.planned_questions, COUNT(g.id), AVG(g.score), j.title FROM sessions s"
                " LEFT JOIN jobs j ON j.id = s.job_id"
                " LEFT JOIN questions q ON q.session_id = s.id AND q.kind = 'main'"
                " LEFT JOIN answers a ON a.question_id = q.id"
                " LEFT JOIN grades g ON g.answer_id = a.id"
                " GROUP BY s.id ORDER BY s.started_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
        )
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
                job=r[8],
            )
            for r in rows
        ]

    def topic_progress(self) -> list[ProgressPoint]:
        """Per session and topic, the mean score of graded main questions, oldest first."""
        rows = self._read(
            lambda db: db.execute(
                "SELECT s.id, s.started_at, COALESCE(q.topic, ''), AVG(g.score), COUNT(g.id)"
                " FROM grades g JOIN answers a ON a.id = g.answer_id"
                " JOIN questions q ON q.id = a.question_id"
                " JOIN sessions s ON s.id = q.session_id"
                " WHERE q.kind = 'main' GROUP BY s.id, q.topic ORDER BY s.started_at",
            ).fetchall()
        )
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
        return self._read(
            lambda db: {
                table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("sessions", "questions", "answers", "grades", "reviews")
            }
        )


def _review(row: tuple) -> Review:
    return Review(
        card_id=row[0],
        box=row[1],
        due_at=datetime.fromisoformat(row[2]),
        last_score=row[3],
        reviewed_at=datetime.fromisoformat(row[4]),
    )
