"""What the interviewer says: the words of each main question and follow-up.

In order of preference, each shown at once: a question the card's prepared interviewer
has (`coach interviewer prepare`: other phrasings, probing follow-ups per point), else the
card's own question or a template; the live model may then replace a template while the
candidate reads, but only where the process's first phrasings showed it fast enough
(coach/interview/model_voice.py). A prepared question is not replaced: it was written by
the same model with more time and checked the same way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from coach.config import Settings
from coach.corpus.models import QuestionCard
from coach.interview.models import Language
from coach.interview.phrases import phrase, phrase_variants
from coach.interview.prepared import PreparedCard, PreparedStore


@dataclass(frozen=True)
class Wording:
    text: str
    prepared: bool
    """From the prepared interviewer (the live model is not asked to replace it)."""


class Interviewer:
    """One session's choice of words; seeded, so a test sees the same interview twice."""

    def __init__(
        self,
        settings: Settings,
        language: Language,
        rng: random.Random,
        prepared: PreparedStore | None,
    ) -> None:
        self.settings = settings
        self.language = language
        self.rng = rng
        self.prepared = prepared if settings.interviewer.use_prepared else None
        self._used: set[str] = set()

    def _record(self, card: QuestionCard) -> PreparedCard | None:
        if self.prepared is None:
            return None
        try:
            return self.prepared.get(card)
        except ValueError:  # an unreadable file: templates, as for an unprepared card
            return None

    def main_question(self, card: QuestionCard) -> Wording:
        """The card's question or, now and then, one of its prepared phrasings (each as
        likely as the card's own text)."""
        record = self._record(card)
        options = [card.question, *(record.phrasings if record else [])]
        choice = self.rng.choice(options) if len(options) > 1 else card.question
        return Wording(choice, prepared=choice != card.question)

    def follow_up(self, card: QuestionCard, target: str | None, depth: bool) -> Wording:
        """A prepared follow-up probing ``target`` not yet asked in this session, else a
        template: about the missed point, or (``depth``) for depth."""
        record = self._record(card)
        if record is not None and target:
            fresh = [q for q in record.probes_for(target) if q not in self._used]
            if fresh:
                text = self.rng.choice(fresh)
                self._used.add(text)
                return Wording(text, prepared=True)
        if depth:
            return Wording(self._pick("depth_follow_up_fallback"), prepared=False)
        aspect = target or phrase(self.language, "depth_aspect")
        return Wording(self._pick("follow_up_fallback", aspect=aspect), prepared=False)

    def _pick(self, key: str, **values: object) -> str:
        """One of the sentences ``key`` lists (a templated follow-up that is always the
        same sentence reads like a machine)."""
        options = phrase_variants(self.language, key)
        return self.rng.choice(options).format(**values)
