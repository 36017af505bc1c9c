from __future__ import annotations

from pathlib import Path

import pytest

from coach.config import Settings


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_CORPUS_PATHS", "a:b")
    monkeypatch.setenv("COACH_CHROMA_URL", "http://127.0.0.1:9")
    settings = Settings()
    assert settings.corpus_paths == [Path("a"), Path("b")]
    assert settings.chroma_url == "http://127.0.0.1:9"


def test_toml_file_is_read_and_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "coach.toml"
    config.write_text('search_k = 9\nembedding_model = "from-toml"\ncorpus_paths = ["x", "y"]\n')
    monkeypatch.setenv("COACH_CONFIG", str(config))
    monkeypatch.setenv("COACH_EMBEDDING_MODEL", "from-env")
    settings = Settings()
    assert settings.search_k == 9
    assert settings.corpus_paths == [Path("x"), Path("y")]
    assert settings.embedding_model == "from-env"


def test_derived_locations_follow_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COACH_MODELS_DIR")
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "d"))
    settings = Settings()
    assert settings.models_dir == tmp_path / "d" / "models"
    assert settings.chroma_dir == tmp_path / "d" / "index" / "chroma"
