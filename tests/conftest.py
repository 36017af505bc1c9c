"""Shared fixtures. Every test gets its own data dir (as simonw/llm isolates with
LLM_USER_PATH); model packs are cached across runs because building one takes ~20 s."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from coach.config import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
# Reuse the packs `make install` put in the user's models dir (models are read-only once
# installed); COACH_TEST_MODELS_DIR moves them elsewhere.
MODELS_DIR = Path(os.environ.get("COACH_TEST_MODELS_DIR") or Settings().models_dir)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


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
