"""The words of a grade: what was right (quoted), what goes beyond the card, what the
reference also covers, and the one follow-up worth asking.

Why a module of its own: the score is made in formula.py from the findings; this turns
the same findings into sentences a candidate acts on, so the two never disagree. The
reference is one good answer, not the only one: when the answer took another valid route
(its depth carries it), the card's other points are "what the reference also mentions",
not "what you missed", and the follow-up asks about the candidate's own content instead
of walking the card's list.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from coach.common.text import clip
from coach.config import Settings
from coach.grading.flags import GradeFlag
from coach.grading.models import COVERAGE_CREDIT, PointResult, Takeaway
from coach.grading.substance import Substance, rarest_term

MESSAGES_FILE = Path(__file__).with_name("messages.toml")
_QUOTE_CHARS = 60


@lru_cache(maxsize=1)
def messages() -> dict[str, str]:
    return tomllib.loads(MESSAGES_FILE.read_text("utf-8"))


@lru_cache(maxsize=1)
def _dont_know() -> re.Pattern[str]:
    return re.compile(messages()["dont_know_pattern"], re.IGNORECASE)


def says_dont_know(text: str, max_chars: int) -> bool:
    """A short answer that says the candidate does not know ("不知道", "没接触过")."""
    flat = re.sub(r"\s+", "", text)
    return len(flat) <= max_chars and bool(_dont_know().search(flat))


class Explanation(BaseModel):
    feedback: str
    follow_up: str
    gaps: list[str] = Field(default_factory=list)
    """Labels of the card's points worth a follow-up, most valuable first: not made,
    not named (an answer that names a point addressed or argued about it)."""
    takeaway: Takeaway = Field(default_factory=Takeaway)


Band = Literal["excellent", "good", "fair", "weak"]


def band(score: float, floors: Mapping[str, float]) -> Band:
    """The word beside a score (``grading.band_floors``): the highest band whose floor
    the score reaches, else "weak"."""
    for name in ("excellent", "good", "fair"):
        if name in floors and score >= floors[name]:
            return name  # type: ignore[return-value]
    return "weak"


def _quote(text: str) -> str:
    return clip(text.strip(), _QUOTE_CHARS)


def explain(
    *,
    question: str,
    answer: str,
    source: str,
    flags: list[str],
    injection: list[str],
    points: list[PointResult],
    groups: list[int],
    substance: Substance | None,
    settings: Settings,
) -> Explanation:
    m = messages()
    if GradeFlag.DONT_KNOW in flags:
        first = next((p for p in points), None)
        lesson = (
            m["dont_know_point"].format(label=first.label, text=first.explanation)
            if (first and first.explanation)
            else ""
        )
        return Explanation(
            feedback=m["dont_know"] + lesson,
            follow_up=m["follow_up_empty"].format(question=question),
            gaps=[p.label for p in points],
            takeaway=_addition(Takeaway(why=m["why_dont_know"], kind="dont_know"), first),
        )
    if GradeFlag.EMPTY in flags:
        first = next((p for p in points), None)
        return Explanation(
            feedback=m["empty"],
            follow_up=m["follow_up_empty"].format(question=question),
            gaps=[p.label for p in points],
            takeaway=_addition(Takeaway(why=m["why_empty"], kind="empty"), first),
        )
    parts: list[str] = []
    if GradeFlag.INJECTION in flags and injection:
        parts.append(m["injection"].format(span=injection[0]))
    if GradeFlag.OFF_TOPIC in flags:
        parts.append(m["off_topic"])
    if GradeFlag.KEYWORD_STUFFING in flags:
        parts.append(m["stuffing"])
    best: dict[int, PointResult] = {}
    for g, r in zip(groups, points, strict=True):
        if g not in best or COVERAGE_CREDIT[r.status] > COVERAGE_CREDIT[best[g].status]:
            best[g] = r
    by_status = {k: [r for r in best.values() if r.status == k] for k in COVERAGE_CREDIT}
    contradicted = [r for r in points if r.contradicted]
    strong = [r for r in by_status["covered"] if r.evidence]
    top = max(strong, key=lambda r: r.coverage) if strong else None
    if top is not None:
        parts.append(m["strongest"].format(quote=_quote(top.evidence)))
    covered_sentences = {r.evidence for r in points if r.evidence}
    beyond = substance.beyond(covered_sentences, limit=1) if substance else []
    if beyond and GradeFlag.OFF_TOPIC not in flags:
        parts.append(m["beyond"].format(quote=_quote(beyond[0])))
    if by_status["covered"]:
        parts.append(m["covered"].format(labels="、".join(r.label for r in by_status["covered"])))
    if by_status["partial"]:
        parts.append(m["partial"].format(labels="、".join(r.label for r in by_status["partial"])))
    if contradicted:
        items = "；".join(f"「{r.label}」：{r.evidence}" for r in contradicted[:3])
        parts.append(m["contradicted"].format(items=items))
    other_route = substance is not None and substance.depth >= settings.grading.other_route_depth
    lowered = answer.lower()
    gaps = [
        r.label
        for r in by_status["missed"] + by_status["partial"]
        if not r.contradicted and r.label.lower() not in lowered
    ]
    missed = [r.label for r in by_status["missed"] if not r.contradicted]
    if missed:
        key = "also_mentions" if other_route else "missed"
        parts.append(m[key].format(labels="、".join(missed), source=source))
    if contradicted:
        follow = m["follow_up_contradicted"].format(label=contradicted[0].label)
    elif other_route and beyond:
        term = _first_term(substance, beyond[0])
        follow = m["follow_up_own"].format(term=term) if term else m["follow_up_complete"]
    elif gaps:
        follow = m["follow_up_missed"].format(label=gaps[0])
    else:
        follow = m["follow_up_complete"]
    kind = _why(flags, best, contradicted, substance, other_route, beyond, settings)
    label = contradicted[0].label if contradicted else ""
    takeaway = Takeaway(
        why=m[f"why_{kind}"].format(label=label),
        kind=kind,
        strength=_quote(_strength(top, beyond, other_route)),
    )
    if GradeFlag.OFF_TOPIC not in flags and GradeFlag.INJECTION not in flags:
        by_label = {r.label: r for r in points}
        if contradicted:
            takeaway = _addition(takeaway, contradicted[0], correct=True)
        elif gaps:
            takeaway = _addition(takeaway, by_label.get(gaps[0]), also=other_route)
    return Explanation(feedback="".join(parts), follow_up=follow, gaps=gaps, takeaway=takeaway)


def _strength(top: PointResult | None, beyond: list[str], other_route: bool) -> str:
    """The sentence to quote as the strongest part: on another valid route the answer's
    own content; else the best-covered point's sentence, or the answer's own content when
    no point is covered (an annotation answer with guidelines and Cohen's kappa made none
    of the card's six points and showed no strength)."""
    if beyond and (other_route or top is None):
        return beyond[0]
    return top.evidence if top else ""


def _addition(
    takeaway: Takeaway, point: PointResult | None, correct: bool = False, also: bool = False
) -> Takeaway:
    """The takeaway with ``point`` as the one thing to add (or to correct; ``also``: what
    the reference also covers, for an answer that took another valid route)."""
    if point is None:
        return takeaway
    return takeaway.model_copy(
        update={
            "addition": point.label,
            "addition_detail": _quote(point.explanation),
            "correct": correct,
            "also": also,
        }
    )


def _why(
    flags: list[str],
    best: dict[int, PointResult],
    contradicted: list[PointResult],
    substance: Substance | None,
    other_route: bool,
    beyond: list[str],
    settings: Settings,
) -> str:
    """Which sentence says why the score is what it is (its key in messages.toml without
    ``why_``), from the same findings the score is made of: a guard first, then a
    contradiction, then how much of the card the answer makes and how specific it is."""
    g = settings.grading
    for flag, key in (
        (GradeFlag.INJECTION, "injection"),
        (GradeFlag.OFF_TOPIC, "off_topic"),
        (GradeFlag.KEYWORD_STUFFING, "stuffing"),
    ):
        if flag in flags:
            return key
    if contradicted:
        return "contradicted"
    share = sum(COVERAGE_CREDIT[r.status] for r in best.values()) / max(1, len(best))
    depth = substance.depth if substance else 0.0
    if share >= g.takeaway_covered_share:
        if depth < g.takeaway_explained_depth:
            return "covered_thin"
        return "covered_beyond" if beyond else "covered"
    if other_route and beyond:
        return "deep"
    if share >= g.takeaway_some_share or depth >= g.takeaway_explained_depth:
        return "some"
    return "little"


def _first_term(substance: Substance | None, sentence: str) -> str:
    if substance is None:
        return ""
    for s in substance.sentences:
        if s.text == sentence and s.terms:
            return rarest_term(s.terms, sentence)
    return ""
