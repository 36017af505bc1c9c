"""The UI's words, from strings.toml (data, so a translation is a file edit)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Literal

Lang = Literal["zh", "en"]
LANGUAGES: dict[str, Lang] = {"中文": "zh", "English": "en"}


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, str]]:
    return tomllib.loads(resources.files("coach.ui").joinpath("strings.toml").read_text("utf-8"))


def t(lang: Lang, key: str, **values: object) -> str:
    """The string ``key`` in ``lang`` (Chinese when a translation is missing)."""
    table = _table()
    template = table.get(lang, {}).get(key) or table["zh"][key]
    return template.format(**values) if values else template


def keys(lang: Lang = "zh") -> set[str]:
    return set(_table()[lang])
