"""All of coach's settings, in one place.

Values come, highest priority first, from: keyword arguments, ``COACH_*`` environment
variables, a ``.env`` file, a ``coach.toml`` file in the working directory (or the file
named by ``COACH_CONFIG``), then the defaults below. Every tunable number in the code
lives here so that a deployment changes behaviour without touching code.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _default_data_dir() -> Path:
    """User data lives outside the checkout, like simonw/llm's LLM_USER_PATH."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "coach"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COACH_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- where things live -------------------------------------------------------------
    data_dir: Path = Field(default_factory=_default_data_dir)
    corpus_paths: Annotated[list[Path], NoDecode] = Field(default_factory=lambda: [Path("corpus")])
    models_dir_override: Path | None = Field(default=None, alias="COACH_MODELS_DIR")
    """Model packs are large and shared between data directories (tests use this)."""

    # --- embeddings ----------------------------------------------------------------------
    embedding_model: str = "e5-small-multilingual"
    """A pack name (see ``coach model list``), a local sentence-transformers directory,
    or a hub model name when a hub is reachable."""
    embedding_batch_size: int = 32
    embedding_query_prompt: str = "query: "
    embedding_passage_prompt: str = "passage: "

    # --- vector store ----------------------------------------------------------------------
    chroma_url: str | None = None
    """When set (e.g. ``http://127.0.0.1:8001``), talk to a Chroma server instead of the
    embedded on-disk store."""
    chroma_collection: str = "coach"

    # --- corpus parsing ------------------------------------------------------------------
    dedupe_threshold: float = 0.72
    """Character-bigram Jaccard similarity of normalised questions above which two
    questions are the same question asked twice."""
    article_chunk_size: int = 600
    article_chunk_overlap: int = 80
    card_body_chunk_size: int = 900
    definition_term_max_chars: int = 12
    """Key-point labels up to this long count as terms whose definitions enrich the card
    titled with them (see coach/index/documents.py)."""
    max_file_bytes: int = 5_000_000

    # --- retrieval -------------------------------------------------------------------------
    search_k: int = 5
    search_candidates: int = 40
    fusion: Literal["convex", "rrf"] = "convex"
    """How dense and BM25 results combine (see coach/index/retriever.py for why convex)."""
    hybrid_alpha: float = Field(default=0.6, ge=0.0, le=1.0)
    """Weight of the dense retriever in convex fusion; BM25 gets 1 - alpha. 0.5-0.8 all
    gave recall@5 >= 0.91 on eval/retrieval.jsonl; 0.6 had the best MRR."""
    rrf_k: int = 60

    # --- language model ------------------------------------------------------------------
    llm_base_url: str = "http://127.0.0.1:8000/v1"
    llm_model: str = "qwen2.5-coder-1.5b"
    llm_api_key: str = "EMPTY"
    llm_temperature: float = 0.0
    llm_seed: int = 42
    llm_timeout: float = 120.0
    """Seconds for one completion; CPU vLLM with a 1.5B model needs tens of seconds."""
    llm_max_retries: int = 2
    llm_max_tokens: int = 512
    llm_health_timeout: float = 3.0

    @field_validator("corpus_paths", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        """Accept ``COACH_CORPUS_PATHS=a:b`` as well as a JSON list."""
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [p for p in value.split(os.pathsep) if p]
        return value

    # --- derived locations -----------------------------------------------------------------
    @property
    def models_dir(self) -> Path:
        return self.models_dir_override or self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def chroma_dir(self) -> Path:
        return self.index_dir / "chroma"

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
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
            file_secret_settings,
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after
    changing the environment."""
    return Settings()
