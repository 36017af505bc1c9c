"""coach as a user installs it: a wheel in a fresh venv, run from outside the source tree.

Why: the editable install of the test venv finds every file of the checkout, so a data
file left out of the package (a prompt template, a TOML table) or a path computed from
the source tree (``parents[2] / "prompts"``) only fails for a user who ran ``pip install
coach-*.whl``. The fresh venv gets coach from the wheel alone; its dependencies come
from the test venv's site-packages through a ``.pth`` line (lines of a ``.pth`` join
``sys.path``, but ``.pth`` files inside that folder, such as the editable install's, are
not read), so nothing is downloaded and ``coach`` cannot come from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import CORPUS, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.integration]

QUESTION = "如何处理大模型的过拟合问题？"
ANSWER = "可以加 L2 正则化降低模型复杂度；用 Dropout 随机丢弃神经元；验证集不再提高时提前停止。"
PACKAGED = ("pyproject.toml", "README.md", "coach")
"""What the wheel is built from: the project's metadata and the package."""
BUILD_TIMEOUT_S = 300
COMMAND_TIMEOUT_S = 600
UI_START_TIMEOUT_S = 180
UI_STOP_TIMEOUT_S = 30


@dataclass(frozen=True)
class Installed:
    python: Path
    coach: Path
    site: Path
    """The fresh venv's site-packages, where the wheel put coach."""
    wheel: Path


def _purelib(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip())


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel from a copy of the checkout's package (building in the checkout
    leaves a ``build/`` folder there, whose stale files of removed modules setuptools
    would put into later wheels), install it into a fresh venv without dependencies."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in PACKAGED:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    dist = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        + ["--quiet", "-w", str(dist), str(source)],
        check=True,
        cwd=base,
        timeout=BUILD_TIMEOUT_S,
    )
    (wheel,) = dist.glob("coach-*.whl")

    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install"]
        + ["--no-deps", "--no-index", "--quiet", str(wheel)],
        check=True,
        cwd=base,
        timeout=BUILD_TIMEOUT_S,
    )
    site = _purelib(python)
    (site / "coach-test-dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n", encoding="utf-8"
    )
    return Installed(python=python, coach=env_dir / "bin" / "coach", site=site, wheel=wheel)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A working directory outside the source tree (no ``prompts/``, no ``corpus/``)."""
    work = tmp_path / "elsewhere"
    work.mkdir()
    assert not work.resolve().is_relative_to(ROOT), "the temporary folder is in the checkout"
    return work


def _env(installed: Installed) -> dict[str, str]:
    """The test's own COACH_* settings (isolated data dir, shared model packs), without
    anything that would put the checkout on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["VIRTUAL_ENV"] = str(installed.python.parent.parent)
    env["PATH"] = f"{installed.python.parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run(installed: Installed, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        cwd=cwd,
        env=_env(installed),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
    )


def test_the_wheel_holds_the_prompts_and_data_files(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    shipped = {
        path.relative_to(ROOT).as_posix()
        for pattern in ("*.md", "*.toml", "*.txt")
        for path in (ROOT / "coach").rglob(pattern)
    }
    assert "coach/prompts/judge_system.md" in shipped
    assert shipped <= names, sorted(shipped - names)


def test_coach_is_imported_from_the_wheel_and_finds_its_prompts(
    installed: Installed, outside: Path
) -> None:
    result = _run(
        installed,
        outside,
        str(installed.python),
        "-c",
        "import coach, pathlib; print(coach.__file__)\n"
        "from coach.prompts import chat_prompt, load_prompt\n"
        "load_prompt('judge_system.md'); chat_prompt('interview_ask')",
    )
    assert result.returncode == 0, result.stderr
    location = Path(result.stdout.strip()).resolve()
    assert location.is_relative_to(installed.site.resolve()), location
    assert not location.is_relative_to(ROOT)


def test_installed_cli_ingests_and_grades_without_the_llm(
    installed: Installed, outside: Path
) -> None:
    ingest = _run(installed, outside, str(installed.coach), "ingest", str(CORPUS), "--json")
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)["files_failed"] == []
    grade = _run(
        installed,
        outside,
        str(installed.coach),
        "grade",
        "--question",
        QUESTION,
        "--answer",
        ANSWER,
        "--no-llm",
        "--json",
    )
    assert grade.returncode == 0, grade.stderr
    data = json.loads(grade.stdout)
    assert 0 <= data["score"] <= 10 and data["score"] > 0
    assert data["references"][0]["title"] == QUESTION


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ui_process(installed: Installed, outside: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = _free_port()
    log = (outside / "ui.log").open("w", encoding="utf-8")
    proc = subprocess.Popen(
        [str(installed.coach), "ui", "--host", "127.0.0.1", "--port", str(port)],
        cwd=outside,
        env=_env(installed),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield proc, f"http://127.0.0.1:{port}/"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # the CLI closes the app on Ctrl-C
            try:
                proc.wait(UI_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(UI_STOP_TIMEOUT_S)
        log.close()


def test_installed_ui_answers_http(
    ui_process: tuple[subprocess.Popen[str], str], outside: Path
) -> None:
    proc, url = ui_process
    deadline = time.monotonic() + UI_START_TIMEOUT_S
    status = None
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                status = response.status
                break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
    log = (outside / "ui.log").read_text("utf-8")
    assert proc.poll() is None, f"coach ui exited with {proc.returncode}:\n{log}"
    assert status == 200, f"no answer from {url} within {UI_START_TIMEOUT_S} s:\n{log}"
