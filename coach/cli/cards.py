"""The cards a per-card command works on (`coach anchors`, `coach interviewer`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from coach.cli.output import fail

if TYPE_CHECKING:
    from coach.config import Settings
    from coach.corpus.models import QuestionCard


def select_cards(settings: Settings, card_ids: list[str] | None) -> list[QuestionCard]:
    """The cards named (all when none are), or exit naming the ids that do not exist."""
    from coach.corpus.catalog import load_corpus

    try:
        cards = load_corpus(settings.paths.corpus_file).cards
    except FileNotFoundError as exc:
        fail(str(exc))
    if card_ids:
        known = {c.id for c in cards}
        unknown = [c for c in card_ids if c not in known]
        if unknown:
            fail(f"No card with id {', '.join(unknown)}; list the ids with `coach cards`.")
        cards = [c for c in cards if c.id in set(card_ids)]
    return cards


def cards_to_write(
    cards: list[QuestionCard],
    current: Callable[[QuestionCard], object],
    *,
    overwrite: bool,
    limit: int | None,
) -> tuple[list[QuestionCard], int]:
    """The cards a per-card LLM run writes (those without a ``current`` record, or all
    with ``overwrite``; at most ``limit``), and how many already had one."""
    todo = [c for c in cards if overwrite or current(c) is None]
    return todo[:limit] if limit is not None else todo, len(cards) - len(todo)
