"""What every tab builder shares: settings, services, the language switch, and the
translator that relabels each tab's components when the language changes.

Why a translator object: the language switch lives above the tabs, but the words are
the tabs' own; each tab registers its components here as it builds them, and the one
``language.change`` handler updates them all without knowing the tabs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from coach.config import Settings
from coach.ui.services import AppServices
from coach.ui.strings import LANGUAGES, Lang, t

ALL = "__all__"
DIFFICULTIES = ("any", "easy", "medium", "hard")

Extra = Callable[[Lang], dict[str, Any]]


def lang_of(value: str | None) -> Lang:
    """The radio's label ('中文' / 'English') or a code; Chinese for anything else."""
    return LANGUAGES.get(value or "", value if value in ("zh", "en") else "zh")  # type: ignore[return-value]


class Translator:
    """Components whose words change with the language.

    ``translator(component, key, attr)`` sets ``attr`` (label, value...) to the string
    ``key``; ``translator.extra(component, fn)`` adds what is not a plain string per
    language (choices, placeholders). Each component gets one update with both."""

    def __init__(self) -> None:
        self._words: dict[Any, dict[str, str]] = {}
        self._extras: dict[Any, Extra] = {}

    def __call__(self, component: Any, key: str, attr: str = "label") -> Any:
        self._words.setdefault(component, {})[attr] = key
        return component

    def extra(self, component: Any, fn: Extra) -> Any:
        self._extras[component] = fn
        return component

    @property
    def components(self) -> list[Any]:
        return list(dict.fromkeys([*self._words, *self._extras]))

    def updates(self, lang: Lang) -> list[Any]:
        """One update per component, in the order of ``components``."""
        updates = []
        for component in self.components:
            words = {attr: t(lang, key) for attr, key in self._words.get(component, {}).items()}
            extra = self._extras[component](lang) if component in self._extras else {}
            updates.append(gr.update(**words, **extra))
        return updates

    def on_language(self, lang_label: str) -> list[Any]:
        """The ``language.change`` handler (outputs: ``components``)."""
        return self.updates(lang_of(lang_label))


@dataclass
class UiContext:
    """Handed to each tab builder; ``language`` is the switch every handler reads."""

    settings: Settings
    services: AppServices
    language: Any
    lang0: Lang
    topics: list[str] = field(default_factory=list)
    translate: Translator = field(default_factory=Translator)
    topic_fields: list[Any] = field(default_factory=list)
    """Every tab's topic dropdown: accepting a generated card may bring a new topic, and
    the question-bank tab then updates them all (``refresh_topics``)."""

    def refresh_topics(self, lang: Lang) -> list[Any]:
        """Re-read the topics from the cards (in place: language switches use them too);
        one update per ``topic_fields`` entry."""
        from coach.interview.selection import topics_of
        from coach.ui.services import NotReady

        with contextlib.suppress(NotReady):  # no index yet: no topics to add
            self.topics[:] = topics_of(self.services.cards)
        return [gr.update(choices=self.topic_choices(lang)) for _ in self.topic_fields]

    def topic_choices(self, lang: Lang) -> list[tuple[str, str]]:
        return [(t(lang, "all_topics"), ALL), *((name, name) for name in self.topics)]

    def difficulty_choices(self, lang: Lang) -> list[tuple[str, str]]:
        return [(t(lang, f"difficulty_{d}"), d) for d in DIFFICULTIES]
