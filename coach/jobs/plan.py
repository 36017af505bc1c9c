"""An interview planned from a job description: the areas it asks for, the bank's cards
for each, and how the session's questions are spread over them (issue 31, first part).

Deterministic, so it works without the LLM: an area is found when the JD names it by one
of its aliases (coach/jobs/areas.toml), core unless every mention sits under an
"加分 / preferred" heading or line; a card belongs to an area only when hybrid search
finds it for the area AND its own text names the area, so a backend JD cannot pull
training cards in by vector closeness alone; an area no card names is "not covered" and
listed, never filled with near misses. Lines of the JD that address a model ("忽略以上要求…")
are dropped before anything is counted: the JD is data.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any, Protocol

from pydantic import BaseModel, Field

from coach.config import Settings
from coach.corpus.models import QuestionCard
from coach.grading.injection import injection_spans

_HEADING_END = (":", "：")
_HEADING_CHARS = 12
"""A line this short is a heading ("任职要求", "加分项", "Nice to have"): an optional
marker in it makes the lines below it optional until the next heading."""


class PlanError(ValueError):
    """A job description that cannot be planned from; the message says what to do."""


class AreaRule(BaseModel):
    name: str
    aliases: list[str]


class CardMatch(BaseModel):
    card_id: str
    title: str
    question: str
    score: float
    source: str


class JobArea(BaseModel):
    name: str
    core: bool
    terms: list[str]
    """The JD's words that named it, in the order first seen."""
    mentions: int
    cards: list[CardMatch] = Field(default_factory=list)

    @property
    def covered(self) -> bool:
        return bool(self.cards)


class PlannedQuestion(BaseModel):
    card_id: str
    area: str
    question: str


class JobPlan(BaseModel):
    areas: list[JobArea]
    questions: list[PlannedQuestion]
    ignored_lines: list[str] = Field(default_factory=list)
    """Lines of the JD dropped as instructions to a model."""

    @property
    def uncovered(self) -> list[str]:
        return [a.name for a in self.areas if not a.covered]


class Searcher(Protocol):
    def search(self, query: str, k: int | None = None, filters: Any = None) -> list: ...


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    text = resources.files("coach.jobs").joinpath("areas.toml").read_text("utf-8")
    return tomllib.loads(text)


def area_rules() -> list[AreaRule]:
    return [AreaRule.model_validate(a) for a in _table()["area"]]


def optional_markers() -> list[str]:
    return [m.lower() for m in _table()["optional"]["markers"]]


@lru_cache(maxsize=512)
def _alias_pattern(alias: str) -> re.Pattern[str]:
    """Latin aliases as whole words (RAG, not "storage"), Chinese ones as substrings."""
    escaped = re.escape(alias)
    if re.search(r"[A-Za-z]", alias):
        return re.compile(rf"(?<![A-Za-z]){escaped}(?![A-Za-z])", re.IGNORECASE)
    return re.compile(escaped)


def names(text: str, rule: AreaRule) -> list[str]:
    """The aliases of ``rule`` that ``text`` names."""
    return [a for a in rule.aliases if _alias_pattern(a).search(text)]


def jd_lines(text: str, settings: Settings) -> tuple[list[str], list[str]]:
    """The JD's non-empty lines, and those dropped as instructions to a model."""
    text = (text or "").strip()
    size = len(text)
    if size < settings.plan.min_jd_chars:
        raise PlanError(
            f"The job description has {size} characters; paste the whole posting "
            f"(at least {settings.plan.min_jd_chars}: duties and requirements)."
        )
    if size > settings.plan.max_jd_chars:
        raise PlanError(
            f"The job description has {size} characters (at most "
            f"{settings.plan.max_jd_chars}): paste the posting only, not the whole page."
        )
    kept, ignored = [], []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        (ignored if injection_spans(line) else kept).append(line)
    return kept, ignored


def _is_heading(line: str) -> bool:
    return line.startswith("#") or line.endswith(_HEADING_END) or len(line) <= _HEADING_CHARS


def find_areas(lines: Sequence[str], rules: Sequence[AreaRule]) -> list[JobArea]:
    """The areas the lines name, most mentioned first; core unless only ever named in
    an optional line or under an optional heading."""
    markers = optional_markers()
    found: dict[str, JobArea] = {}
    optional_section = False
    for line in lines:
        lowered = line.lower()
        marked = any(m in lowered for m in markers)
        if _is_heading(line):
            optional_section = marked
        optional = optional_section or marked
        for rule in rules:
            terms = names(line, rule)
            if not terms:
                continue
            area = found.setdefault(
                rule.name, JobArea(name=rule.name, core=False, terms=[], mentions=0)
            )
            area.mentions += len(terms)
            area.core = area.core or not optional
            area.terms += [t for t in terms if t not in area.terms]
    return sorted(found.values(), key=lambda a: (not a.core, -a.mentions))


def card_text(card: QuestionCard) -> str:
    return "\n".join([card.title, card.question, *(p.text() for p in card.key_points)])


def card_names_area(card: QuestionCard, rule: AreaRule) -> bool:
    """The card's question or title names the area, or its points name it twice over
    (two different aliases): one alias in one point of a long card is a passing mention
    (a deployment card listing 微服务 is not a backend card)."""
    if names(f"{card.title}\n{card.question}", rule):
        return True
    return len(names(card_text(card), rule)) >= 2


def match_cards(
    area: JobArea,
    rule: AreaRule,
    searcher: Searcher,
    cards_by_id: dict[str, QuestionCard],
    settings: Settings,
) -> list[CardMatch]:
    """The bank's cards for an area: hybrid search for the area and the JD's words for
    it, kept only when the card itself names the area (``card_names_area``)."""
    from coach.index.retriever import Filters

    query = " ".join([area.name, *area.terms])
    hits = searcher.search(query, settings.plan.candidates, Filters(kind="card"))
    matches: list[CardMatch] = []
    for hit in hits:
        card = cards_by_id.get(hit.unit)
        if card is None or any(m.card_id == card.id for m in matches):
            continue
        if card_names_area(card, rule):
            matches.append(
                CardMatch(
                    card_id=card.id,
                    title=card.title,
                    question=card.question,
                    score=round(float(hit.score), 4),
                    source=hit.source,
                )
            )
        if len(matches) >= settings.plan.cards_per_area:
            break
    return matches


def allocate(areas: Sequence[JobArea], count: int) -> list[PlannedQuestion]:
    """``count`` questions over the covered areas, core first (most mentioned first),
    one card per area per round, no card twice."""
    covered = [a for a in areas if a.covered]
    covered.sort(key=lambda a: (not a.core, -a.mentions))
    used: set[str] = set()
    planned: list[PlannedQuestion] = []
    queues = {a.name: list(a.cards) for a in covered}
    while len(planned) < count and any(queues.values()):
        for area in covered:
            queue = queues[area.name]
            while queue and queue[0].card_id in used:
                queue.pop(0)
            if not queue or len(planned) >= count:
                continue
            card = queue.pop(0)
            used.add(card.card_id)
            planned.append(
                PlannedQuestion(card_id=card.card_id, area=area.name, question=card.question)
            )
    return planned


def build_plan(
    jd: str,
    searcher: Searcher,
    cards: Sequence[QuestionCard],
    settings: Settings,
    questions: int,
) -> JobPlan:
    lines, ignored = jd_lines(jd, settings)
    rules = {r.name: r for r in area_rules()}
    areas = find_areas(lines, list(rules.values()))
    if not areas:
        raise PlanError(
            "The job description names none of the areas coach knows "
            "(coach/jobs/areas.toml): check it is a technical posting, or add its terms there."
        )
    by_id = {c.id: c for c in cards}
    for area in areas:
        area.cards = match_cards(area, rules[area.name], searcher, by_id, settings)
    return JobPlan(areas=areas, questions=allocate(areas, questions), ignored_lines=ignored)
