"""The engine's own sentences (fallback follow-ups, hints, report headings), per
language, from phrases.toml: text is data, so a translation needs no code change."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

from coach.interview.models import Language


@lru_cache(maxsize=1)
def _all() -> dict[str, dict[str, str | list[str]]]:
    text = resources.files("coach.interview").joinpath("phrases.toml").read_text("utf-8")
    return tomllib.loads(text)


def phrase(language: Language, key: str, **values: object) -> str:
    template = phrase_variants(language, key)[0]
    return template.format(**values) if values else template


def phrase_variants(language: Language, key: str) -> list[str]:
    """Every sentence for ``key``: a list in the file, or its one string."""
    table = _all()
    found = table.get(language, {}).get(key) or table["zh"][key]
    return list(found) if isinstance(found, list) else [found]
