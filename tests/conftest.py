"""Shared fixtures. Every test gets its own data dir (as simonw/llm isolates with
LLM_USER_PATH); model packs are cached across runs because building one takes ~20 s."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from coach.config import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
# Reuse the packs `make install` put in the user's models dir (models are read-only once
# installed); COACH_TEST_MODELS_DIR moves them elsewhere.
MODELS_DIR = Path(os.environ.get("COACH_TEST_MODELS_DIR") or Settings().paths.models_dir)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def make_index_read_only(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The index's store file as a read-only mount or ``chattr +i`` leaves it: present,
    not writable (``os.access`` says so even for root, who could write it otherwise)."""
    from coach.store import data_dir

    store = settings.paths.chroma_dir / "chroma.sqlite3"
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_bytes(b"")
    real_access = os.access
    monkeypatch.setattr(
        data_dir.os,
        "access",
        lambda path, mode: False if str(path) == str(store) else real_access(path, mode),
    )
    return store


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads the developer's own data dir, .env or coach.toml."""
    for key in list(os.environ):
        if key.startswith("COACH_") and key != "COACH_TEST_MODELS_DIR":
            monkeypatch.delenv(key)
    data = tmp_path / "data"
    monkeypatch.setenv("COACH_DATA_DIR", str(data))
    monkeypatch.setenv("COACH_MODELS_DIR", str(MODELS_DIR))
    monkeypatch.setenv("COACH_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the corpus that a test may edit."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def settings(isolated_env: Path) -> Settings:
    return Settings()


# --- real vLLM server (owned by the model-serving engineer) -------------------------------
# The vLLM venv is ~3.5 GB: reuse the one `make install` built (coach model install-server);
# COACH_TEST_VLLM_VENV moves it.
VLLM_VENV = Path(os.environ.get("COACH_TEST_VLLM_VENV") or Settings().paths.vllm_venv)
TEST_LLM_PACK = "smollm2-135m"


@dataclass(frozen=True)
class ServedModel:
    base_url: str
    """Ends in /v1, as COACH_LLM_BASE_URL expects."""
    model: str
    log_path: Path
    pid: int
    """Leader of the server's process group."""


@pytest.fixture(scope="session")
def vllm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedModel]:
    """A real vLLM server for smollm2-135m on a free loopback port, started once per
    session and stopped (whole process group) at the end. Sets nothing globally: tests
    monkeypatch COACH_LLM_BASE_URL / COACH_LLM_MODEL from ``.base_url`` / ``.model``."""
    from coach.llm.server import VLLMServer, free_port

    log_dir = tmp_path_factory.mktemp("vllm")
    env = {
        "COACH_DATA_DIR": str(log_dir / "data"),
        "COACH_MODELS_DIR": str(MODELS_DIR),
        "COACH_VLLM_VENV": str(VLLM_VENV),
        "COACH_CONFIG": str(log_dir / "absent.toml"),
    }
    # The pack build reads get_settings(); give it these paths only while installing.
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("COACH_")]:
            if key != "COACH_TEST_MODELS_DIR":
                mp.delenv(key)
        for key, value in env.items():
            mp.setenv(key, value)
        get_settings.cache_clear()
        settings = get_settings()
        server = VLLMServer(
            settings,
            TEST_LLM_PACK,
            port=free_port(),
            log_path=log_dir / "server.log",
            record=False,
        )
        server.start()
        assert server.proc is not None
        pid = server.proc.pid
    get_settings.cache_clear()
    try:
        yield ServedModel(server.base_url, server.model, server.log_path, pid)
    finally:
        server.stop()
