"""The interview tab's "interview for a job" box: a pasted job description becomes a plan
(coach/jobs/plan.py) shown before Start; Start then asks the plan's cards."""

from __future__ import annotations

from typing import Any

from coach.jobs.plan import JobPlan, PlanError, build_plan
from coach.ui.render import esc
from coach.ui.services import NotReady
from coach.ui.strings import Lang, t


def plan_markdown(plan: JobPlan, lang: Lang) -> str:
    """The plan as the candidate reads it: each area (core / optional) with its cards,
    the areas the bank does not cover, then the questions Start will ask."""
    lines = [t(lang, "job_areas")]
    for area in plan.areas:
        kind = t(lang, "job_core" if area.core else "job_optional")
        terms = esc("、".join(area.terms))
        cards = len(area.cards)
        status = t(lang, "job_cards", count=cards) if cards else t(lang, "job_uncovered")
        lines.append(f"- **{esc(area.name)}**（{kind}；{terms}）：{status}")
    lines.append("")
    key = "job_questions" if plan.questions else "job_no_questions"
    lines.append(t(lang, key, count=len(plan.questions)))
    if plan.ignored_lines:
        lines += ["", t(lang, "job_ignored", count=len(plan.ignored_lines))]
    return "\n".join(lines)


def plan_for_job(
    services: Any, text: str, count: int, lang: Lang
) -> tuple[str, list[tuple[str, str]] | None]:
    """(what the tab shows, the questions as (label, card id) for the box the candidate
    unticks what they do not want from); None when there is no plan."""
    if not (text or "").strip():
        return t(lang, "job_empty"), None
    try:
        plan = build_plan(text, services.searcher(), services.cards, services.settings, count)
    except (PlanError, NotReady) as exc:  # a JD it cannot plan from; no index yet
        return t(lang, "error", text=esc(str(exc))), None
    choices = [(f"[{q.area}] {q.question}", q.card_id) for q in plan.questions]
    return plan_markdown(plan, lang), choices or None
