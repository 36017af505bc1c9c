"""The history file doing something wrong: held by another program, damaged, or written
by a newer coach. An answer is never lost, a damaged file never stops an interview, and
a newer file is never half-used."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from coach.config import Settings
from coach.store.history import HistoryError, HistoryStore

from .batch_fakes import keyword_grade
from .conftest import make_index_read_only


@pytest.fixture
def quick(settings: Settings) -> Settings:
    """A short bounded wait, so a busy test takes a fraction of a second."""
    return settings.model_copy(
        update={"storage": settings.storage.model_copy(update={"history_busy_timeout": 0.2})}
    )


@contextmanager
def held(path: Path) -> Iterator[None]:
    """Another program holds the database (``BEGIN EXCLUSIVE``), as in the probe."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_an_answer_given_while_the_history_is_held_is_kept_and_replayed(
    tmp_path: Path, quick: Settings
) -> None:
    path = tmp_path / "history.sqlite3"
    store = HistoryStore(path, quick)
    session = store.start_session(topic=None, difficulty=None, planned=1, language="zh")
    question = store.add_question(session, "什么是过拟合？", card_id="c1")
    assert store.take_notices() == []
    with held(path):
        started = time.perf_counter()
        answer = store.add_answer(question, "模型记住了训练集的噪声。")
        waited = time.perf_counter() - started
        store.add_grade(answer, keyword_grade("q", "正则化 Dropout"))
        store.set_outcome(question, "answered")
        review = store.record_review("c1", 5.0)
    assert waited < 2, "bounded wait, not SQLite's 30 s"
    assert answer < 0, "a local id while the database is busy"
    assert review.box >= 1
    notices = store.take_notices()
    assert len(notices) == 1 and "kept in history.sqlite3.pending.jsonl" in notices[0]
    assert "模型记住了" in store.pending.path.read_text("utf-8")

    # the next start replays them, in order, with the grade tied to its answer
    again = HistoryStore(path, quick)
    assert again.counts() == {
        "sessions": 1,
        "questions": 1,
        "answers": 1,
        "grades": 1,
        "reviews": 1,
    }
    [saved] = again.answers_for(question)
    assert saved["text"] == "模型记住了训练集的噪声。" and saved["grade"] is not None
    assert not again.pending.exists()
    assert any("are now in it" in n for n in again.take_notices())
    # a third start replays nothing twice
    assert HistoryStore(path, quick).counts()["answers"] == 1


def test_writes_after_the_lock_is_released_replay_first_in_the_same_process(
    tmp_path: Path, quick: Settings
) -> None:
    path = tmp_path / "history.sqlite3"
    store = HistoryStore(path, quick)
    session = store.start_session(topic=None, difficulty=None, planned=2, language="zh")
    with held(path):
        question = store.add_question(session, "Q1")
        answer = store.add_answer(question, "A1")
    store.add_grade(answer, keyword_grade("q", "Dropout"))  # free again: replays, then writes
    assert not store.pending.exists()
    [saved] = store.answers_for(question)
    assert saved["text"] == "A1" and saved["grade"] is not None


def test_a_store_opened_while_the_file_is_held_still_keeps_the_answer(
    tmp_path: Path, quick: Settings
) -> None:
    path = tmp_path / "history.sqlite3"
    HistoryStore(path, quick)
    with held(path):
        store = HistoryStore(path, quick)
        assert store.reviews() == {}, "the interview can still choose its cards"
        session = store.start_session(topic=None, difficulty=None, planned=1, language="zh")
        question = store.add_question(session, "Q")
        store.add_answer(question, "kept")
    assert HistoryStore(path, quick).counts()["answers"] == 1


def test_a_damaged_history_is_moved_aside_and_a_fresh_one_started(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(bytes(range(256)) * 64)
    store = HistoryStore(path, settings)
    session = store.start_session(topic=None, difficulty=None, planned=1, language="zh")
    store.add_answer(store.add_question(session, "Q"), "A")
    assert store.counts()["answers"] == 1
    [aside] = list(tmp_path.glob("history.sqlite3.corrupt-*"))
    assert aside.read_bytes() == bytes(range(256)) * 64, "the damaged file is kept"
    [notice] = store.take_notices()
    assert "damaged" in notice and aside.name in notice and str(tmp_path) not in notice


def test_a_history_from_a_newer_coach_is_refused_and_left_unchanged(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "history.sqlite3"
    HistoryStore(path, settings)
    with sqlite3.connect(path) as db:  # a newer coach added a step and a column
        db.execute("INSERT INTO _migrations VALUES ('m099_clarity_again', '2030-01-01')")
        db.execute("ALTER TABLE grades ADD COLUMN clarity_v2 REAL NOT NULL DEFAULT 0")
    before = path.read_bytes()
    with pytest.raises(HistoryError, match=r"newer version of coach .*m099_clarity_again"):
        HistoryStore(path, settings)
    assert path.read_bytes() == before


def test_an_interview_answer_submitted_while_the_history_is_held_is_saved_and_said(
    tmp_path: Path, quick: Settings
) -> None:
    """The probe: BEGIN EXCLUSIVE held by another process made the submit wait 30 s and
    fail with "database is locked", and the answer was not saved."""
    from coach.interview.engine import InterviewEngine, Services
    from coach.interview.models import InterviewConfig
    from coach.ui.chat import stream_into_chat

    from .interview_fakes import CARDS, KeywordGrader
    from .test_ui import collect

    path = tmp_path / "history.sqlite3"
    services = Services(
        settings=quick,
        cards=CARDS,
        grader=KeywordGrader(CARDS),
        store=HistoryStore(path, quick),
        chat_model=None,
    )
    engine = InterviewEngine(services, InterviewConfig(topic="推理与部署", questions=1))
    chat: list[dict] = []
    collect(stream_into_chat(engine.start(), engine, "zh", chat))
    with held(path):
        collect(stream_into_chat(engine.answer("int8 量化"), engine, "zh", chat))
    contents = [m["content"] for m in chat]
    assert any("得分" in c for c in contents), "graded as usual"
    assert any("history.sqlite3.pending.jsonl" in c and "Nothing is lost" in c for c in contents)
    store = HistoryStore(path, quick)
    assert store.counts()["answers"] == 1 and store.counts()["grades"] == 1


@pytest.mark.parametrize(
    ("lang", "words"), [("zh", "历史记录正被另一个程序占用"), ("en", "in use by another program")]
)
def test_the_history_tab_says_the_history_is_busy_instead_of_an_error(
    quick: Settings, lang: str, words: str
) -> None:
    """Reads other than reviews raise HistoryBusy while another program holds the file;
    the tab said only "Error". Now: a line in the UI's language, and what it showed
    stays; the next refresh after the file is free shows the history again."""
    from coach.ui.services import AppServices
    from coach.ui.tabs.history import history_view

    services = AppServices(quick)
    store = services.store
    session = store.start_session(topic=None, difficulty=None, planned=1, language=lang)
    store.add_question(session, "什么是过拟合？", card_id="c1")
    with held(store.path):
        plot, sessions, due, status = history_view(services, lang)  # type: ignore[arg-type]
    assert words in status and status.startswith("⚠️")
    assert [plot, sessions, due] == [{"__type__": "update"}] * 3, "what it showed stays"

    plot, sessions, due, status = history_view(services, lang)  # type: ignore[arg-type]
    assert status == ""
    assert len(sessions) == 1 and plot is not None


def _pending_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".pending" in p.name)


def test_no_pending_or_lock_file_is_left_once_the_writes_are_replayed(
    tmp_path: Path, quick: Settings
) -> None:
    """``history.sqlite3.pending.jsonl.lock`` stayed in the data folder for good."""
    path = tmp_path / "history.sqlite3"
    store = HistoryStore(path, quick)
    assert _pending_files(tmp_path) == [], "a store never busy makes no lock file"
    session = store.start_session(topic=None, difficulty=None, planned=1, language="zh")
    question = store.add_question(session, "什么是过拟合？", card_id="c1")
    with held(path):
        store.add_answer(question, "模型记住了训练集的噪声。")
    assert _pending_files(tmp_path) == [
        "history.sqlite3.pending.jsonl",
        "history.sqlite3.pending.jsonl.lock",
    ], "both stay while a write waits"
    HistoryStore(path, quick)  # replays
    assert _pending_files(tmp_path) == []


def test_a_lock_file_left_by_an_older_coach_is_removed_at_the_next_start(
    tmp_path: Path, quick: Settings
) -> None:
    path = tmp_path / "history.sqlite3"
    HistoryStore(path, quick)
    (tmp_path / "history.sqlite3.pending.jsonl.lock").write_bytes(b"")
    HistoryStore(path, quick)
    assert _pending_files(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="flock: the lock file is removed on POSIX")
def test_removing_the_lock_file_keeps_the_lock_exclusive(tmp_path: Path) -> None:
    """A process that opened the lock file and waits on it while the holder removes it
    must not end up holding the deleted file while a newcomer locks a new one."""
    import fcntl
    import threading

    from coach.store.pending import PendingLock

    lock = PendingLock(tmp_path / "p.jsonl.lock", tmp_path / "p.jsonl")
    inside = threading.Event()
    checked: list[bool] = []

    def waiter() -> None:
        with lock.held():
            # this holder's lock must be on the file at the path: a newcomer cannot take it
            fd = os.open(lock.path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                checked.append(False)
            except BlockingIOError:
                checked.append(True)
            finally:
                os.close(fd)
            inside.set()

    with lock.held():
        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.3)  # the waiter has opened the file and blocks on it
        assert not inside.is_set()
    thread.join(timeout=10)
    assert checked == [True]
    assert not lock.path.exists(), "removed again by the waiter: nothing pending"


def test_coach_ui_refuses_a_newer_history_or_a_read_only_data_folder_before_starting(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replayed by hand (``coach ui`` exited 1 in 0.5 s); here so it stays that way: the UI
    never starts on a history it would half-use, nor on a folder it cannot write."""
    from typer.testing import CliRunner

    import coach.ui.server as server
    from coach.cli import app

    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the UI was launched")

    monkeypatch.setattr(server, "launch", never)
    path = settings.paths.history_db
    path.parent.mkdir(parents=True, exist_ok=True)
    HistoryStore(path, settings)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO _migrations VALUES ('m099_from_the_future', '2030-01-01')")
    before = path.read_bytes()
    result = CliRunner().invoke(app, ["ui"])
    assert result.exit_code == 1 and "newer version of coach" in result.output
    assert "Traceback" not in result.output and path.read_bytes() == before

    path.unlink()
    make_index_read_only(settings, monkeypatch)
    result = CliRunner().invoke(app, ["ui"])
    assert result.exit_code == 1 and "is read-only" in result.output
    assert "start the UI" in result.output and not path.exists()
