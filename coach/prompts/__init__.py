"""The prompt templates coach sends to a model, shipped inside the package.

Why package data read through ``importlib.resources``: the templates used to live in a
top-level ``prompts/`` folder found as ``parents[2]`` of a module, which exists only in a
source checkout; an installed wheel had no such folder. Every template is read here, so
there is one place that knows where they are. The repository's ``prompts`` is a link to
this folder.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.prompts import ChatPromptTemplate


@cache
def load_prompt(name: str) -> str:
    """The template ``name`` (e.g. ``judge_user.md``) as text; read once per process."""
    path = resources.files(__name__).joinpath(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"Prompt template {name} is missing from {resources.files(__name__)} "
            "(it ships with coach: reinstall coach)."
        )
    return path.read_text("utf-8")


@cache
def chat_prompt(name: str) -> ChatPromptTemplate:
    """``<name>_system.md`` and ``<name>_user.md`` as a LangChain chat prompt (system
    message, then the human one)."""
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages(
        [
            ("system", load_prompt(f"{name}_system.md")),
            ("human", load_prompt(f"{name}_user.md")),
        ]
    )
