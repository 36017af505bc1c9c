"""Prompt templates from prompts/ (never long strings in code), as LangChain chat
prompts: ``<name>_system.md`` and ``<name>_user.md``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"


@cache
def load_prompt(name: str, directory: Path = PROMPTS_DIR) -> ChatPromptTemplate:
    system = directory / f"{name}_system.md"
    user = directory / f"{name}_user.md"
    for path in (system, user):
        if not path.exists():
            raise FileNotFoundError(
                f"Prompt file {path} is missing; reinstall coach from its source tree."
            )
    return ChatPromptTemplate.from_messages(
        [("system", system.read_text("utf-8")), ("human", user.read_text("utf-8"))]
    )
