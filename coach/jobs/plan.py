"""An interview planned from a job description: the areas it asks for, the bank's cards
for each, and how the session's questions are spread over them (issue 31). The model's
part (areas it reads, questions it writes, the résumé's deep dives) is added by
coach/jobs/planner.py; this module is the deterministic core it builds on.

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
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from coach.config import Settings
from coach.corpus.models import KeyPoint, QuestionCard, SourceSpan
from coach.grading.injection import injection_spans
from coach.jobs.models import LlmArea, Project, WrittenQuestion

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


class RecentCard(CardMatch):
    """A card of the area asked in an earlier session and not due again yet."""

    due_at: datetime


class JobArea(BaseModel):
    name: str
    core: bool
    terms: list[str]
    """The JD's words that named it, in the order first seen."""
    mentions: int
    found_by: list[Literal["table", "llm"]] = Field(default_factory=lambda: ["table"])
    """Who found it in the JD: the alias table, the model, or both."""
    cards: list[CardMatch] = Field(default_factory=list)
    recent: list[RecentCard] = Field(default_factory=list)
    """Cards asked in earlier sessions that are not due yet: not asked again until due."""
    written: list[WrittenQuestion] = Field(default_factory=list)
    """Questions the model wrote because the bank has no card for the area."""

    @property
    def in_bank(self) -> bool:
        return bool(self.cards or self.recent)

    @property
    def covered(self) -> bool:
        """Something to ask: the bank's cards or a written question."""
        return bool(self.cards or self.recent or self.written)


Origin = Literal["bank", "generated", "resume"]


class PlannedQuestion(BaseModel):
    card_id: str
    area: str
    question: str
    origin: Origin = "bank"
    score: float | None = None
    """Bank cards: the hybrid search score that matched it to the area."""
    source: str = ""
    """Bank cards: ``file:line``; written ones: who wrote them."""


class JobPlan(BaseModel):
    title: str = ""
    """The job's name, from the JD's first line."""
    areas: list[JobArea]
    questions: list[PlannedQuestion]
    ignored_lines: list[str] = Field(default_factory=list)
    """Lines of the JD dropped as instructions to a model."""
    resume_ignored: list[str] = Field(default_factory=list)
    """Lines of the résumé dropped as instructions to a model."""
    projects: list[Project] = Field(default_factory=list)
    """The résumé's projects (empty without a résumé)."""
    deep_dives: list[WrittenQuestion] = Field(default_factory=list)
    """Questions about the résumé's projects in the JD's areas."""
    notes: list[str] = Field(default_factory=list)
    """What the candidate should know about how the plan was made (model down, ...)."""
    seconds: dict[str, float] = Field(default_factory=dict)
    """How long each step took (the bench and `coach plan` print it)."""
    count: int = 0
    """The questions asked for (allocation after an area is removed keeps it)."""

    @property
    def uncovered(self) -> list[str]:
        return [a.name for a in self.areas if not a.covered]

    def written(self) -> list[WrittenQuestion]:
        return [q for a in self.areas for q in a.written] + list(self.deep_dives)

    def without(self, removed: Sequence[str]) -> JobPlan:
        """The plan with these areas taken out, its questions allocated again over the
        rest (the candidate removed an area before starting)."""
        gone = set(removed)
        areas = [a for a in self.areas if a.name not in gone]
        dives = [q for q in self.deep_dives if q.area not in gone]
        questions = allocate(areas, self.count, dives)
        return self.model_copy(update={"areas": areas, "questions": questions})


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
    return split_injected(text)


def split_injected(text: str) -> tuple[list[str], list[str]]:
    """The text's non-empty lines, and those dropped as instructions to a model (the
    grader's detector, line by line): a JD or a résumé is data, never instructions."""
    kept: list[str] = []
    ignored: list[str] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if line:
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


def _queue(area: JobArea) -> list[PlannedQuestion]:
    """What an area can ask, best first: its bank cards not asked recently, then the
    questions written for it."""
    bank = [
        PlannedQuestion(
            card_id=c.card_id,
            area=area.name,
            question=c.question,
            score=c.score,
            source=c.source,
        )
        for c in area.cards
    ]
    written = [
        PlannedQuestion(
            card_id=q.id, area=area.name, question=q.question, origin=q.origin, source=q.model
        )
        for q in area.written
    ]
    return bank + written


def allocate(
    areas: Sequence[JobArea], count: int, deep_dives: Sequence[WrittenQuestion] = ()
) -> list[PlannedQuestion]:
    """``count`` questions: the résumé's deep dives (at most half the session), then
    the areas in turn, core first (most mentioned first), one question per area per
    round, no card twice. A deep dive comes second, fourth, ...: the interview opens on
    the JD's main area, then alternates between the candidate's projects and the bank."""
    ordered = sorted(areas, key=lambda a: (not a.core, -a.mentions))
    dives = [
        PlannedQuestion(
            card_id=q.id, area=q.area, question=q.question, origin="resume", source=q.project
        )
        for q in deep_dives
    ][: count // 2]
    used: set[str] = set()
    planned: list[PlannedQuestion] = []
    queues = {a.name: _queue(a) for a in ordered}
    wanted = count - len(dives)
    while len(planned) < wanted and any(queues.values()):
        for area in ordered:
            queue = queues[area.name]
            while queue and queue[0].card_id in used:
                queue.pop(0)
            if not queue or len(planned) >= wanted:
                continue
            item = queue.pop(0)
            used.add(item.card_id)
            planned.append(item)
    for i, dive in enumerate(dives):
        planned.insert(min(2 * i + 1, len(planned)), dive)
    return planned


def split_recent(
    matches: Sequence[CardMatch], reviews: dict[str, Any], now: datetime
) -> tuple[list[CardMatch], list[RecentCard]]:
    """The matches to ask, and those asked before and not due again yet (the review
    schedule of coach/store/history.py: an answer scored well comes back later)."""
    fresh: list[CardMatch] = []
    recent: list[RecentCard] = []
    for match in matches:
        review = reviews.get(match.card_id)
        if review is not None and review.due_at > now:
            recent.append(RecentCard(**match.model_dump(), due_at=review.due_at))
        else:
            fresh.append(match)
    return fresh, recent


def merge_llm_areas(
    areas: list[JobArea], llm: Sequence[LlmArea], rules: dict[str, AreaRule]
) -> list[JobArea]:
    """The table's areas with the model's added: an area the model named that the table
    also found gains the model's words; a table area only the model found (its words
    were not aliases) joins as found by the model; a new one joins under the model's
    name with its words as its aliases (``rules`` gains it)."""
    by_name = {a.name: a for a in areas}
    for item in llm:
        area = by_name.get(item.name)
        if area is None:
            area = JobArea(name=item.name, core=item.core, terms=[], mentions=0, found_by=["llm"])
            by_name[item.name] = area
            areas.append(area)
            rules.setdefault(item.name, AreaRule(name=item.name, aliases=list(item.terms)))
        elif "llm" not in area.found_by:
            area.found_by = [*area.found_by, "llm"]
        area.core = area.core or item.core
        new_terms = [t for t in item.terms if t not in area.terms]
        area.terms += new_terms
        area.mentions = max(area.mentions, len(area.terms))
    return sorted(areas, key=lambda a: (not a.core, -a.mentions))


TITLE_CHARS = 40
"""A job's title is its JD's first line, cut to this: it names the job in the history."""
_TITLE_PREFIX = re.compile(
    r"^(?:#+\s*|(?:岗位名称|职位名称|岗位|职位|Job title|Position)\s*[:：]\s*)"
)


def job_title(lines: Sequence[str]) -> str:
    first = lines[0] if lines else ""
    return _TITLE_PREFIX.sub("", first).strip()[:TITLE_CHARS] or "job"


def written_card(question: WrittenQuestion) -> QuestionCard:
    """A written question as a card the interview asks and grades: its expected points
    are the key points, and its source says who wrote it (it is in no file)."""
    points = [KeyPoint(label=p.label, explanation=p.explanation) for p in question.points]
    answer = "\n".join(f"{i}. **{p.label}**：{p.explanation}" for i, p in enumerate(points, 1))
    where = f"{question.origin}:{question.project or question.area}"
    return QuestionCard(
        id=question.id,
        title=question.question,
        question=question.question,
        answer=answer,
        references=[answer],
        key_points=points,
        sources=[SourceSpan(file=where, start_line=0, end_line=0)],
        topic=question.area,
        kind="generated",
    )


def build_plan(
    jd: str,
    searcher: Searcher,
    cards: Sequence[QuestionCard],
    settings: Settings,
    questions: int,
    *,
    llm_areas: Sequence[LlmArea] = (),
    reviews: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> JobPlan:
    """The plan without written questions: areas (the table's, and the model's when
    given), each with its bank cards, split into those to ask and those asked recently,
    and the allocation over the bank's cards."""
    lines, ignored = jd_lines(jd, settings)
    rules = {r.name: r for r in area_rules()}
    areas = find_areas(lines, list(rules.values()))
    if llm_areas:
        areas = merge_llm_areas(areas, llm_areas, rules)
    if not areas:
        raise PlanError(
            "The job description names none of the areas coach knows "
            "(coach/jobs/areas.toml): check it is a technical posting, or add its terms there."
        )
    by_id = {c.id: c for c in cards}
    for area in areas:
        matches = match_cards(area, rules[area.name], searcher, by_id, settings)
        if reviews and now is not None:
            area.cards, area.recent = split_recent(matches, reviews, now)
        else:
            area.cards = matches
    return JobPlan(
        title=job_title(lines),
        areas=areas,
        questions=allocate(areas, questions),
        ignored_lines=ignored,
        count=questions,
    )
