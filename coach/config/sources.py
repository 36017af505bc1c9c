"""Where setting values come from, read into sections.

The environment (and ``.env``) are read field by field under each section's own names
(``Section.env_name``), so ``COACH_GRADING_WEIGHT_SCORER`` lands in
``settings.grading.weight_scorer``. Keyword arguments and ``coach.toml`` may be nested
(``[grading] weight_scorer = 0.5``) or flat as before sections existed
(``grading_weight_scorer = 0.5``); flat keys are moved into their section per source,
before the sources are merged, so a flat ``coach.toml`` key never beats an environment
variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from coach.config.section import Section

LEGACY_KEYS: dict[str, tuple[str, str]] = {
    "models_dir_override": ("storage", "models_dir"),
    "vllm_venv_override": ("storage", "vllm_venv"),
}
"""Flat keyword names of fields whose flat name was not their variable's name."""


@cache
def sections_of(settings_cls: type[BaseSettings]) -> dict[str, type[Section]]:
    """Section attribute -> section class, from the root model's annotations."""
    found: dict[str, type[Section]] = {}
    for name, field in settings_cls.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, Section):
            found[name] = kind
    return found


@cache
def flat_key_map(settings_cls: type[BaseSettings]) -> dict[str, tuple[str, str]]:
    """Every flat key -> (section, field)."""
    keys = dict(LEGACY_KEYS)
    for section, kind in sections_of(settings_cls).items():
        keys.update({flat: (section, field) for flat, field in kind.flat_names().items()})
    return keys


def nest(values: Mapping[str, Any], keys: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """Move flat keys into their sections; nested values and unknown keys pass through."""
    nested: dict[str, Any] = {}
    flat: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        # ``progress`` is a section and, flat, its ``style``: a dict or a section is the former.
        if key in keys and not isinstance(value, dict | Section):
            section, field = keys[key]
            flat.setdefault(section, {})[field] = value
        else:
            nested[key] = value
    for section, fields in flat.items():
        given = nested.get(section)
        if isinstance(given, Section):
            given = given.model_dump(exclude_unset=True)
        # A nested value in the same source is the more specific one.
        nested[section] = {**fields, **(given or {})}
    return nested


class NestedFlatKeys(PydanticBaseSettingsSource):
    """Wraps a source whose keys may be flat (keyword arguments, ``coach.toml``)."""

    def __init__(self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource):
        super().__init__(settings_cls)
        self.inner = inner

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return nest(self.inner(), flat_key_map(self.settings_cls))


class SectionEnvSource(PydanticBaseSettingsSource):
    """``COACH_*`` variables, each read under its field's name (case-insensitive)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str | None]):
        super().__init__(settings_cls)
        self.environ = {k.upper(): v for k, v in environ.items() if v is not None}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for section, kind in sections_of(self.settings_cls).items():
            found = {
                field: self.environ[kind.env_name(field)]
                for field in kind.model_fields
                if kind.env_name(field) in self.environ
            }
            if found:
                values[section] = found
        return values

    @classmethod
    def from_process(cls, settings_cls: type[BaseSettings]) -> SectionEnvSource:
        return cls(settings_cls, os.environ)

    @classmethod
    def from_dotenv(cls, settings_cls: type[BaseSettings], path: Path) -> SectionEnvSource:
        return cls(settings_cls, dotenv_values(path) if path.is_file() else {})
