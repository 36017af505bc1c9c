"""The root of coach's settings: one section per subsystem, and the paths object.

Values come, highest priority first, from: keyword arguments, ``COACH_*`` environment
variables, a ``.env`` file, a ``coach.toml`` file in the working directory (or the file
named by ``COACH_CONFIG``), then the defaults in the section modules. Every tunable number
in the code lives in a section so that a deployment changes behaviour without touching
code; every file location is worked out by ``settings.paths``.
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from coach.config.batch import BatchSettings
from coach.config.evaluation import EvalSettings
from coach.config.grading import AnchorSettings, GradingSettings
from coach.config.indexing import ChromaSettings, CorpusSettings, EmbeddingSettings, SearchSettings
from coach.config.interview import InterviewSettings
from coach.config.interviewer import InterviewerSettings
from coach.config.llm import LlmSettings, VllmSettings
from coach.config.paths import Paths
from coach.config.plan import PlanSettings
from coach.config.progress import ProgressSettings
from coach.config.sources import NestedFlatKeys, SectionEnvSource, flat_key_map, nest
from coach.config.storage import StorageSettings
from coach.config.ui import UiSettings
from coach.config.voice import VoiceSettings

_PATH_NAMES = frozenset(
    {"data_dir", "corpus_paths", "models_dir", "vllm_venv", "vllm_state_dir", "history_db"}
    | {"index_dir", "chroma_dir", "eval_dir", "mohler_source_dir"}
)
"""Flat names that were paths: they answer from ``settings.paths``, resolved."""


class FlatSettingWarning(DeprecationWarning):
    """Code read a setting by its flat name (``settings.grading_weight_scorer``)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    storage: StorageSettings = Field(default_factory=StorageSettings)
    corpus: CorpusSettings = Field(default_factory=CorpusSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    vllm: VllmSettings = Field(default_factory=VllmSettings)
    grading: GradingSettings = Field(default_factory=GradingSettings)
    anchors: AnchorSettings = Field(default_factory=AnchorSettings)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    interview: InterviewSettings = Field(default_factory=InterviewSettings)
    interviewer: InterviewerSettings = Field(default_factory=InterviewerSettings)
    plan: PlanSettings = Field(default_factory=PlanSettings)
    ui: UiSettings = Field(default_factory=UiSettings)
    evaluation: EvalSettings = Field(default_factory=EvalSettings)
    progress: ProgressSettings = Field(default_factory=ProgressSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)

    @property
    def paths(self) -> Paths:
        return Paths(self.storage, self.vllm.device)

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Settings:
        """Also takes flat keys (``{"grading_llm_mode": "judge"}``), each copied into its
        section, so that a changed copy never carries a stray attribute nothing reads."""
        if not update:
            return super().model_copy(deep=deep)
        nested = nest(update, flat_key_map(type(self)))
        changes: dict[str, Any] = {}
        for key, value in nested.items():
            current = getattr(self, key, None)
            if isinstance(value, dict) and current is not None and hasattr(current, "model_copy"):
                changes[key] = current.model_copy(update=value)
            else:
                changes[key] = value
        return super().model_copy(update=changes, deep=deep)

    def __getattr__(self, name: str) -> Any:
        """A flat name still answers (with a warning) so that a missed caller does not
        crash a user's run; tests turn the warning into an error."""
        if name in _PATH_NAMES:
            where, value = f"paths.{name}", getattr(self.paths, name)
        elif (section_field := flat_key_map(type(self)).get(name)) is not None:
            section, field = section_field
            where, value = f"{section}.{field}", getattr(getattr(self, section), field)
        else:
            return super().__getattr__(name)  # type: ignore[misc]
        warnings.warn(f"settings.{name} is settings.{where}", FlatSettingWarning, stacklevel=2)
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("COACH_CONFIG", "coach.toml"))
        return (
            NestedFlatKeys(settings_cls, init_settings),
            SectionEnvSource.from_process(settings_cls),
            SectionEnvSource.from_dotenv(settings_cls, Path(".env")),
            NestedFlatKeys(settings_cls, TomlConfigSettingsSource(settings_cls, toml_path)),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after
    changing the environment."""
    return Settings()
