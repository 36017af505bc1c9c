from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from coach.config import FlatSettingWarning, Settings


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_CORPUS_PATHS", "a:b")
    monkeypatch.setenv("COACH_CHROMA_URL", "http://127.0.0.1:9")
    settings = Settings()
    assert settings.paths.corpus_paths == [Path("a"), Path("b")]
    assert settings.chroma.url == "http://127.0.0.1:9"


def test_every_documented_variable_lands_in_its_section(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flat COACH_* names people already use keep working, unchanged."""
    monkeypatch.setenv("COACH_GRADING_WEIGHT_SCORER", "0.2")
    monkeypatch.setenv("COACH_FUSION", "rrf")
    monkeypatch.setenv("COACH_REVIEW_INTERVALS_DAYS", "0,1,3")
    monkeypatch.setenv("COACH_VLLM_EXTRA_ARGS", "--swap-space 1")
    monkeypatch.setenv("COACH_EVAL_LLM_MODELS", "a,b")
    monkeypatch.setenv("COACH_PROGRESS", "lines")
    monkeypatch.setenv("COACH_INTERVIEW_DIFFICULTY_POINTS", "[2, 4]")
    monkeypatch.setenv("coach_ui_port", "9999")
    settings = Settings()
    assert settings.grading.weight_scorer == 0.2
    assert settings.search.fusion == "rrf"
    assert settings.interview.review_intervals_days == [0.0, 1.0, 3.0]
    assert settings.vllm.extra_args == ["--swap-space", "1"]
    assert settings.evaluation.llm_models == ["a", "b"]
    assert settings.progress.style == "lines"
    assert settings.interview.difficulty_points == (2, 4)
    assert settings.ui.port == 9999


def test_model_pack_alone_names_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_MODEL_PACK", "smollm2-135m")
    assert Settings().llm.model == "smollm2-135m"
    monkeypatch.setenv("COACH_LLM_MODEL", "other")
    assert Settings().llm.model == "other"


def test_toml_file_is_read_and_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "coach.toml"
    config.write_text('search_k = 9\nembedding_model = "from-toml"\ncorpus_paths = ["x", "y"]\n')
    monkeypatch.setenv("COACH_CONFIG", str(config))
    monkeypatch.setenv("COACH_EMBEDDING_MODEL", "from-env")
    settings = Settings()
    assert settings.search.k == 9
    assert settings.paths.corpus_paths == [Path("x"), Path("y")]
    assert settings.embedding.model == "from-env"


def test_toml_sections_and_keyword_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "coach.toml"
    config.write_text('[grading]\nweight_scorer = 0.7\n\n[ui]\nlanguage = "en"\n')
    monkeypatch.setenv("COACH_CONFIG", str(config))
    settings = Settings()
    assert (settings.grading.weight_scorer, settings.ui.language) == (0.7, "en")
    assert Settings(grading_weight_scorer=0.1).grading.weight_scorer == 0.1
    assert Settings(grading={"weight_scorer": 0.3}).grading.weight_scorer == 0.3


def test_a_copy_takes_flat_or_nested_changes(settings: Settings) -> None:
    judge = settings.model_copy(update={"grading_llm_mode": "judge"})
    assert judge.grading.llm_mode == "judge" and settings.grading.llm_mode == "scorer"
    quiet = settings.model_copy(update={"interview": {"follow_ups": 0}})
    assert quiet.interview.follow_ups == 0 and quiet.grading == settings.grading


def test_a_flat_read_still_answers_with_a_warning(settings: Settings) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert settings.grading_weight_scorer == settings.grading.weight_scorer  # type: ignore[attr-defined]
        assert settings.index_dir == settings.paths.index_dir  # type: ignore[attr-defined]
    assert [w.category for w in caught] == [FlatSettingWarning, FlatSettingWarning]
    with pytest.raises(AttributeError):
        settings.no_such_setting  # type: ignore[attr-defined]  # noqa: B018


def test_derived_locations_follow_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COACH_MODELS_DIR")
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "d"))
    paths = Settings().paths
    assert paths.models_dir == tmp_path / "d" / "models"
    assert paths.chroma_dir == tmp_path / "d" / "index" / "chroma"
    assert paths.batch_journal(Path("out/r.csv")) == Path("out/r.csv.partial.jsonl")
    assert paths.batch_report(Path("out/r.csv")) == Path("out/r.report.html")
