"""The history schema as numbered migrations, each applied once and recorded.

Why numbered functions (the habit of simonw/llm's migrations.py): a user's history file
outlives any one version of coach, so the schema only ever moves forward by steps that
each run exactly once; ``_migrations`` records which ran, and a rerun is a no-op. Add a
step by appending a new ``mNNN_…`` function; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            topic TEXT,
            difficulty TEXT,
            planned_questions INTEGER NOT NULL,
            language TEXT
        );
        CREATE TABLE questions (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            parent_id INTEGER REFERENCES questions(id),
            kind TEXT NOT NULL CHECK (kind IN ('main', 'follow_up')),
            card_id TEXT,
            topic TEXT,
            text TEXT NOT NULL,
            asked_at TEXT NOT NULL,
            outcome TEXT
        );
        CREATE TABLE answers (
            id INTEGER PRIMARY KEY,
            question_id INTEGER NOT NULL REFERENCES questions(id),
            text TEXT NOT NULL,
            answered_at TEXT NOT NULL
        );
        CREATE TABLE grades (
            id INTEGER PRIMARY KEY,
            answer_id INTEGER NOT NULL UNIQUE REFERENCES answers(id),
            score REAL NOT NULL,
            coverage REAL, correctness REAL, depth REAL, clarity REAL,
            grade_json TEXT NOT NULL,
            graded_at TEXT NOT NULL
        );
        CREATE INDEX questions_session ON questions(session_id);
        CREATE INDEX answers_question ON answers(question_id);
        """
    )


@migration
def m002_reviews(db: sqlite3.Connection) -> None:
    """Leitner boxes per card: questions answered badly come back."""
    db.executescript(
        """
        CREATE TABLE reviews (
            card_id TEXT PRIMARY KEY,
            box INTEGER NOT NULL,
            due_at TEXT NOT NULL,
            last_score REAL,
            reviewed_at TEXT NOT NULL
        );
        CREATE INDEX reviews_due ON reviews(due_at);
        """
    )


@migration
def m003_grade_errors(db: sqlite3.Connection) -> None:
    """Why an answer has no grade (the grader failed); the answer itself is kept."""
    db.execute("ALTER TABLE answers ADD COLUMN grade_error TEXT")


@migration
def m004_signals(db: sqlite3.Connection) -> None:
    """The signals a score is made of replace the sub-scores (coverage, correctness,
    depth, clarity), which never entered the score. The old columns stay for the grades
    stored before; their rows and their grade_json still load (extra fields ignored)."""
    for column in ("evidence", "content_depth", "llm_score", "confidence"):
        db.execute(f"ALTER TABLE grades ADD COLUMN {column} REAL")


@migration
def m005_replayed(db: sqlite3.Connection) -> None:
    """Writes replayed from the pending file (coach/store/pending.py), so a replay cut
    short after its commit is never applied twice, and the rows it made keep their ids."""
    db.execute("CREATE TABLE replayed (op_id TEXT PRIMARY KEY, row_id INTEGER)")


@migration
def m006_coaching(db: sqlite3.Connection) -> None:
    """What the model wrote about an answer (``advice``, ``stronger`` answer): kept with
    the turn, never part of its score."""
    db.executescript(
        """
        CREATE TABLE coaching (
            id INTEGER PRIMARY KEY,
            answer_id INTEGER NOT NULL REFERENCES answers(id),
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX coaching_answer ON coaching(answer_id);
        """
    )


@migration
def m007_jobs(db: sqlite3.Connection) -> None:
    """The jobs a candidate interviews for (coach/jobs): the JD and résumé as pasted, so
    one job can be practised over several sessions; a session names its job."""
    db.executescript(
        """
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            jd TEXT NOT NULL,
            resume TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            used_at TEXT NOT NULL
        );
        ALTER TABLE sessions ADD COLUMN job_id TEXT REFERENCES jobs(id);
        """
    )


class NewerSchema(RuntimeError):
    """The history file was written by a newer coach: its schema has steps this version
    does not know, so writing to it could lose or corrupt what that version keeps."""


def applied(db: sqlite3.Connection) -> set[str]:
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    return {row[0] for row in db.execute("SELECT name FROM _migrations")}


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply every migration not yet recorded, each in its own transaction; returns the
    names applied now (empty on a rerun). Raises NewerSchema, changing nothing, when the
    file holds steps this version does not know."""
    done = applied(db)
    db.commit()
    unknown = sorted(done - {fn.__name__ for fn in MIGRATIONS})
    if unknown:
        raise NewerSchema(", ".join(unknown))
    ran: list[str] = []
    for fn in MIGRATIONS:
        if fn.__name__ in done:
            continue
        # executescript commits first, so wrap explicitly: a failed step leaves no trace.
        db.execute("BEGIN")
        try:
            for statement in _statements(fn):
                db.execute(statement)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (fn.__name__, datetime.now(UTC).isoformat()),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        ran.append(fn.__name__)
    return ran


class _Recorder:
    """Collects the statements a migration runs, so they execute inside our transaction
    (sqlite3's executescript would commit on its own)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def executescript(self, script: str) -> None:
        self.statements.extend(s.strip() for s in script.split(";") if s.strip())

    def execute(self, statement: str) -> None:
        self.statements.append(statement)


def _statements(fn: Migration) -> list[str]:
    recorder = _Recorder()
    fn(recorder)  # type: ignore[arg-type]
    return recorder.statements
