"""Which cards an interview asks: the candidate's track and difficulty, cards due for
review first (questions answered badly come back), then cards never asked, then the rest.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime

from coach.config import Settings
from coach.corpus.models import QuestionCard
from coach.interview.models import Difficulty
from coach.store.history import Review


def difficulty_of(card: QuestionCard, settings: Settings) -> Difficulty:
    """A question is as hard as the number of points a full answer must make."""
    easy, medium = settings.interview.difficulty_points
    n = len(card.key_points)
    if n <= easy:
        return "easy"
    return "medium" if n <= medium else "hard"


def askable(card: QuestionCard) -> bool:
    """A card can be graded only if it has a reference: key points or an answer; a
    generated card only once accepted (the model may have asked something the section
    does not answer)."""
    return (
        card.accepted
        and bool(card.question.strip())
        and bool(card.key_points or card.answer.strip())
    )


def topics_of(cards: Sequence[QuestionCard]) -> list[str]:
    """The tracks on offer, most cards first."""
    counts: dict[str, int] = {}
    for card in cards:
        if askable(card):
            counts[card.topic] = counts.get(card.topic, 0) + 1
    return sorted(counts, key=lambda t: (-counts[t], t))


def choose_cards(
    cards: Sequence[QuestionCard],
    *,
    topic: str | None,
    difficulty: Difficulty,
    count: int,
    reviews: Mapping[str, Review],
    now: datetime,
    settings: Settings,
    rng: random.Random,
) -> tuple[list[QuestionCard], bool]:
    """Up to ``count`` cards, and whether the difficulty filter had to be relaxed
    because the track has too few cards of that difficulty."""
    pool = [c for c in cards if askable(c) and (topic is None or c.topic == topic)]
    relaxed = False
    if difficulty != "any":
        exact = [c for c in pool if difficulty_of(c, settings) == difficulty]
        if len(exact) >= count:
            pool = exact
        else:
            relaxed = True
            pool = exact + [c for c in pool if c not in exact]
            # keep the right difficulty first, then the rest
    due = sorted(
        (c for c in pool if c.id in reviews and reviews[c.id].due_at <= now),
        key=lambda c: (reviews[c.id].box, reviews[c.id].due_at),
    )
    fresh = [c for c in pool if c.id not in reviews]
    rng.shuffle(fresh)
    if difficulty != "any" and relaxed:
        fresh.sort(key=lambda c: difficulty_of(c, settings) != difficulty)
    later = sorted(
        (c for c in pool if c.id in reviews and reviews[c.id].due_at > now),
        key=lambda c: reviews[c.id].due_at,
    )
    return (due + fresh + later)[:count], relaxed
