"""What every settings section shares: its environment names and list parsing.

A section is a plain pydantic model; the root ``Settings`` holds one of each. Every field's
environment variable is ``env_prefix + FIELD`` unless ``env_names`` names it otherwise, so
the flat ``COACH_*`` names the project has always documented keep working unchanged while
the code reads ``settings.grading.weight_scorer`` instead of one 120-field namespace.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict


class Section(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_default=False)

    env_prefix: ClassVar[str] = "COACH_"
    env_names: ClassVar[dict[str, str]] = {}
    """Fields whose variable does not follow ``env_prefix + FIELD`` (older, shorter names)."""

    @classmethod
    def env_name(cls, field: str) -> str:
        return cls.env_names.get(field, cls.env_prefix + field.upper())

    @classmethod
    def flat_names(cls) -> dict[str, str]:
        """Flat name (the env name without ``COACH_``, lower case) -> field name: the
        keys ``coach.toml``, keyword arguments and ``model_copy(update=...)`` accepted
        before settings had sections, and still do."""
        return {cls.env_name(f).removeprefix("COACH_").lower(): f for f in cls.model_fields}


def _splitter(split: Callable[[str], list[str]]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return split(value)
        return value

    return parse


def _commas(text: str) -> list[str]:
    return text.replace(",", " ").split()


def _paths(text: str) -> list[str]:
    return [p for p in text.split(os.pathsep) if p]


# An environment variable holds a list as JSON or, more readably, as separated words.
Commas = BeforeValidator(_splitter(_commas))
"""``a,b`` or ``a b``: names and numbers."""
Words = BeforeValidator(_splitter(shlex.split))
"""Shell words: ``--swap-space 1`` (command lines, requirement specifiers)."""
PathList = BeforeValidator(_splitter(_paths))
"""``a:b`` like ``PATH``."""

CommaStrings = Annotated[list[str], Commas]
WordList = Annotated[list[str], Words]
