"""`coach grade` against a careless or hostile user (issue 14): what the command prints
for broken input, files in the way and file-system faults (one clear line, no
traceback), and a model server that accepts connections but never answers."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coach.cli import app
from coach.config import Settings, get_settings
from coach.grading.models import Grade

from .batch_fakes import FakeGrader, keyword_grade
from .test_batch import GOOD, PARTIAL, Q, read_output_csv, write_csv

REFERENCE = "防止过拟合可以用正则化、Dropout、数据增强和早停。"
HEALTH_TIMEOUT = 0.5
LLM_TIMEOUT = 1.0
SLACK_SECONDS = 15.0
"""Everything but the waits (the rubric is warm, see ``warm_rubric``) takes well under a
second; this only absorbs a loaded machine. The bug this guards against waited 400 s."""


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["grade", *args])


@pytest.fixture
def fake_grader(monkeypatch: pytest.MonkeyPatch) -> FakeGrader:
    """Batches through the CLI grade with the fake (no embedding model needed)."""
    grader = FakeGrader()
    monkeypatch.setattr("coach.batch.run._default_grader", lambda *_args: grader)
    return grader


# --- batch faults, as the user sees them -------------------------------------------------


def test_help_names_the_output_formats_and_overwrite() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.replace("│", " ").split())  # rich wraps help in boxes
    assert "CSV, JSONL or XLSX" in text and "--overwrite" in text


def test_unclosed_quote_exits_non_zero_with_the_line(
    tmp_path: Path, fake_grader: FakeGrader
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        f'id,question,answer\nr1,{Q},{GOOD}\nr2,{Q},"半句\nr3,{Q},{PARTIAL}\nr4,{Q},{GOOD}\n',
        "utf-8",
    )
    result = invoke("--input", str(source), "--output", "out.csv", "--no-llm")
    assert result.exit_code == 1
    assert "line 3" in result.stderr and "never closed" in result.stderr
    assert "graded now" not in result.stdout and fake_grader.calls == []


def test_existing_output_needs_overwrite(tmp_path: Path, fake_grader: FakeGrader) -> None:
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]])
    (tmp_path / "out.csv").write_text("keep me\n", "utf-8")
    refused = invoke("--input", str(source), "--output", "out.csv", "--no-llm")
    assert refused.exit_code == 1 and "Pass --overwrite" in refused.stderr
    assert (tmp_path / "out.csv").read_text("utf-8") == "keep me\n"
    replaced = invoke("--input", str(source), "--output", "out.csv", "--no-llm", "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert read_output_csv(tmp_path / "out.csv")[0]["question"] == Q


def test_output_that_is_a_folder_is_one_line_not_a_traceback(
    tmp_path: Path, fake_grader: FakeGrader
) -> None:
    source = write_csv(tmp_path / "in.csv", [["question", "answer"], [Q, GOOD]])
    (tmp_path / "out.csv").mkdir()
    result = invoke("--input", str(source), "--output", "out.csv", "--no-llm")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "is a folder, not a file name" in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_disk_full_at_the_end_says_how_to_resume_and_resume_finishes(
    tmp_path: Path, fake_grader: FakeGrader, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_csv(
        tmp_path / "in.csv", [["id", "question", "answer"], ["a", Q, GOOD], ["b", Q, PARTIAL]]
    )

    def disk_full(path: Path, results: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    with monkeypatch.context() as patched:
        patched.setattr("coach.batch.run.write_results", disk_full)
        failed = invoke("--input", str(source), "--output", "out.csv", "--no-llm")
    assert failed.exit_code == 1 and isinstance(failed.exception, SystemExit)
    assert "No space left on device" in failed.stderr and "--resume" in failed.stderr
    assert "Traceback" not in failed.output and fake_grader.calls == [GOOD, PARTIAL]
    resumed = invoke("--input", str(source), "--output", "out.csv", "--no-llm", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "0 graded now, 2 from the journal" in resumed.stdout
    assert fake_grader.calls == [GOOD, PARTIAL]  # nothing graded twice
    assert [r["id"] for r in read_output_csv(tmp_path / "out.csv")] == ["a", "b"]


# --- a model server that accepts connections and never answers ---------------------------


class SilentServer:
    """Accepts TCP connections on a free loopback port and never answers them; with
    ``models``, answers ``GET .../models`` (the health check) and nothing else, like a
    server whose generation is wedged."""

    def __init__(self, models: list[str] | None = None) -> None:
        self.models = models
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._connections.append(connection)
            if self.models is not None:
                threading.Thread(
                    target=self._answer_models, args=(connection,), daemon=True
                ).start()

    def _answer_models(self, connection: socket.socket) -> None:
        request = b""
        reader = connection.makefile("rb")
        try:
            while not request.endswith(b"\r\n\r\n"):
                chunk = reader.readline()
                if not chunk:
                    return
                request += chunk
        except OSError:
            return
        if not request.startswith(b"GET") or b"/models" not in request.split(b"\r\n", 1)[0]:
            return  # hold the connection open: the completion never comes
        body = json.dumps({"data": [{"id": m} for m in self.models or []]}).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
        connection.sendall(head.encode() + b"\r\nConnection: close\r\n\r\n" + body)
        connection.close()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        for connection in self._connections:
            connection.close()
        self._thread.join(5)


@pytest.fixture
def silent_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    servers: list[SilentServer] = []

    def start(models: list[str] | None = None) -> SilentServer:
        server = SilentServer(models)
        servers.append(server)
        monkeypatch.setenv("COACH_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("COACH_LLM_HEALTH_TIMEOUT", str(HEALTH_TIMEOUT))
        monkeypatch.setenv("COACH_LLM_TIMEOUT", str(LLM_TIMEOUT))
        get_settings.cache_clear()
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def warm_rubric(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real rubric grades each answer once (loading the embedding model); later
    grades of the same answer reuse that result, so a timed call measures the waits on
    the model server, not the rubric's CPU time (a minute on a busy 2-core machine)."""
    from coach.grading.rubric import Rubric

    real = Rubric.grade
    done: dict[tuple[str, str], Any] = {}

    def grade(self: Rubric, question: str, answer: str, ref: Any) -> Any:
        if (question, answer) not in done:
            done[question, answer] = real(self, question, answer, ref)
        return done[question, answer].model_copy(deep=True)

    monkeypatch.setattr(Rubric, "grade", grade)

    def warm_up() -> None:
        result = invoke("-q", Q, "-a", GOOD, "--reference", REFERENCE, "--no-llm")
        assert result.exit_code == 0, result.output

    return warm_up


class RecordingGrader:
    """Stands in for coach's Grader in the fast tests: records how it was built."""

    built: list[bool] = []

    def __init__(self, settings: Settings, *, use_llm: bool = True) -> None:
        self.built.append(use_llm)

    def grade(self, question: str, answer: str, **_kw: Any) -> Grade:
        return keyword_grade(question, answer, _kw.get("reference"))


def test_silent_server_is_noticed_within_the_health_timeout(
    silent_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fast: the grader is a fake, so only the health check's wait is timed."""
    silent_server()
    RecordingGrader.built = []
    monkeypatch.setattr("coach.grading.grader.Grader", RecordingGrader)
    started = time.monotonic()
    result = invoke("-q", Q, "-a", GOOD, "--reference", REFERENCE)
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert HEALTH_TIMEOUT <= elapsed < HEALTH_TIMEOUT + SLACK_SECONDS
    assert RecordingGrader.built == [False]  # no LLM call is even tried
    assert "Score: 10.0/10" in result.stdout and "Flags: llm_unavailable" in result.stdout
    assert "not reachable" in result.stderr and "Graded by the rubric alone" in result.stderr


def test_a_verdict_that_never_comes_is_cut_off_at_the_timeout(settings: Settings) -> None:
    """Fast: the bound itself, around a call that would wait forever."""
    from coach.grading.grader import Grader

    grader = Grader(settings, use_llm=False)
    started = time.monotonic()
    outcome = asyncio.run(grader._bounded(asyncio.Event().wait, LLM_TIMEOUT))
    assert LLM_TIMEOUT <= time.monotonic() - started < LLM_TIMEOUT + SLACK_SECONDS
    assert outcome[0] is None and outcome[2] == ["llm_unavailable"]
    assert f"did not answer within {LLM_TIMEOUT:g} s (COACH_LLM_TIMEOUT)" in outcome[1][0]


@pytest.mark.slow
def test_server_that_never_answers_is_noticed_by_the_health_check(
    silent_server: Any, warm_rubric: Any
) -> None:
    silent_server()
    warm_rubric()
    started = time.monotonic()
    result = invoke("-q", Q, "-a", GOOD, "--reference", REFERENCE, "--json")
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert elapsed < HEALTH_TIMEOUT + SLACK_SECONDS
    grade = json.loads(result.stdout)
    assert 0 <= grade["score"] <= 10 and grade["signals"] == ["rubric"]
    assert "llm_unavailable" in grade["flags"]
    assert "Note:" in result.stderr and "not reachable" in result.stderr
    assert "Graded by the rubric alone" in result.stderr


@pytest.mark.slow
def test_server_that_never_sends_the_grade_is_bounded_by_llm_timeout(
    silent_server: Any, warm_rubric: Any, settings: Settings
) -> None:
    silent_server(models=[settings.llm.model])
    warm_rubric()
    started = time.monotonic()
    result = invoke("-q", Q, "-a", GOOD, "--reference", REFERENCE)
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert LLM_TIMEOUT <= elapsed < LLM_TIMEOUT + HEALTH_TIMEOUT + SLACK_SECONDS
    assert "Score:" in result.stdout and "Flags: llm_unavailable" in result.stdout
    assert f"did not answer within {LLM_TIMEOUT:g} s (COACH_LLM_TIMEOUT)" in result.stderr
