"""The interview tab's "interview for a job" box: a pasted job description (and an
uploaded résumé) becomes a plan (coach/jobs) shown before Start; the candidate removes
areas or questions; Start then asks the plan's questions and the report groups by the
job's areas. The job is kept in the history so it can be practised again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coach.interview.models import JobContext
from coach.jobs.plan import JobPlan, PlanError, PlannedQuestion
from coach.store.history import HistoryBusy
from coach.ui.render import esc
from coach.ui.services import NotReady
from coach.ui.strings import Lang, t


@dataclass
class JobState:
    """What the tab keeps between Plan and Start (a gr.State)."""

    plan: JobPlan
    """The plan as made, every area in."""
    job_id: str = ""
    removed: list[str] = field(default_factory=list)
    """Areas the candidate took out."""

    @property
    def current(self) -> JobPlan:
        return self.plan.without(self.removed) if self.removed else self.plan


def _origin_mark(question: PlannedQuestion, lang: Lang) -> str:
    return "" if question.origin == "bank" else " " + t(lang, f"written_{question.origin}")


def plan_markdown(plan: JobPlan, lang: Lang, removed: list[str] | None = None) -> str:
    """The plan as the candidate reads it: each area (core / optional, who found it)
    with its cards, written questions or none; the résumé's projects; the questions
    Start will ask; what was ignored and how long it took."""
    lines = [t(lang, "job_title_line", title=esc(plan.title)), "", t(lang, "job_areas")]
    for area in plan.areas:
        kind = t(lang, "job_core" if area.core else "job_optional")
        terms = esc("、".join(area.terms))
        found = "" if area.found_by == ["table"] else t(lang, "job_found_by_model")
        parts = []
        if area.cards:
            parts.append(t(lang, "job_cards", count=len(area.cards)))
        if area.recent:
            due = min(r.due_at for r in area.recent).strftime("%m-%d")
            parts.append(t(lang, "job_recent", count=len(area.recent), due=due))
        if area.written:
            parts.append(t(lang, "job_generated", count=len(area.written)))
        if not area.in_bank:
            parts.insert(0, t(lang, "job_uncovered"))
        lines.append(f"- **{esc(area.name)}**（{kind}{found}；{terms}）：{'；'.join(parts)}")
    if removed:
        lines += ["", t(lang, "job_removed", areas=esc("、".join(removed)))]
    matched = [
        f"- {esc(a.name)}：{c.score:.2f} {esc(c.question)}（{esc(c.source)}）"
        for a in plan.areas
        for c in a.cards
    ]
    if matched:
        summary = t(lang, "job_matches")
        lines += ["", f"<details><summary>{summary}</summary>\n", *matched, "\n</details>"]
    if plan.projects:
        lines += ["", t(lang, "job_projects")]
        for project in plan.projects:
            areas = "、".join(project.areas) or t(lang, "job_project_none")
            lines.append(f"- {esc(project.title)}：{esc(areas)}")
    lines.append("")
    key = "job_questions" if plan.questions else "job_no_questions"
    lines.append(t(lang, key, count=len(plan.questions)))
    if plan.ignored_lines or plan.resume_ignored:
        count = len(plan.ignored_lines) + len(plan.resume_ignored)
        lines += ["", t(lang, "job_ignored", count=count)]
    lines += [t(lang, "notice", text=esc(note)) for note in plan.notes]
    if plan.seconds:
        lines += ["", t(lang, "job_seconds", seconds=plan.seconds.get("total", 0.0))]
    return "\n".join(lines)


def question_choices(plan: JobPlan, lang: Lang) -> list[tuple[str, str]]:
    return [(f"[{q.area}] {q.question}{_origin_mark(q, lang)}", q.card_id) for q in plan.questions]


def area_choices(plan: JobPlan, lang: Lang) -> list[tuple[str, str]]:
    return [
        (f"{a.name}（{t(lang, 'job_core' if a.core else 'job_optional')}）", a.name)
        for a in plan.areas
    ]


def resume_from_file(path: str | None, settings: Any) -> str:
    """The uploaded résumé's text ('' when none); ResumeError says what to do."""
    if not path:
        return ""
    from coach.jobs.resume import read_resume

    return read_resume(Path(path), settings)


async def plan_stages(
    services: Any, text: str, resume_file: str | None, count: int, lang: Lang
) -> AsyncIterator[tuple[str, JobState | None]]:
    """(what the tab shows, the plan to keep) as the plan grows: the table's plan in
    seconds, then the model's additions; None when there is no plan. The job is saved
    in the history at once and the model's questions are offered to the bank."""
    from coach.jobs.offer import offer
    from coach.jobs.planner import PlanRequest
    from coach.jobs.resume import ResumeError

    if not (text or "").strip():
        yield t(lang, "job_empty"), None
        return
    settings = services.settings
    try:
        resume = await asyncio.to_thread(resume_from_file, resume_file, settings)
        planner = await asyncio.to_thread(services.job_planner)
        store = services.store
        try:
            reviews = store.reviews()
        except HistoryBusy:
            reviews = {}
        request = PlanRequest(jd=text, resume=resume, questions=count)
        job_id = ""
        async for plan in planner.stages(request, reviews=reviews, now=store.clock()):
            job_id = job_id or store.save_job(plan.title, text, resume)
            state = JobState(plan=plan, job_id=job_id)
            shown = plan_markdown(plan, lang)
            if planner.use_model and "model_areas_and_resume" not in plan.seconds:
                yield shown + "\n\n" + t(lang, "job_model_working"), state
                continue
            offered = offer(settings.paths.generated_cards_file, plan.written())
            if offered:
                shown += "\n\n" + t(lang, "job_offered", count=offered)
            yield shown, state
    except (PlanError, ResumeError, NotReady) as exc:  # a JD or résumé it cannot use
        yield t(lang, "error", text=esc(str(exc))), None


async def plan_for_job(
    services: Any, text: str, resume_file: str | None, count: int, lang: Lang
) -> tuple[str, JobState | None]:
    """The finished plan (the last of ``plan_stages``)."""
    stages = [stage async for stage in plan_stages(services, text, resume_file, count, lang)]
    return stages[-1]


def remove_areas(
    state: JobState | None, kept: list[str], lang: Lang
) -> tuple[str, JobState | None]:
    """The plan with the unticked areas out, its questions allocated again."""
    if state is None:
        return t(lang, "job_empty"), None
    state.removed = [a.name for a in state.plan.areas if a.name not in set(kept or [])]
    return plan_markdown(state.current, lang, state.removed), state


def interview_for(
    state: JobState | None, chosen: list[str] | None
) -> tuple[list[str], JobContext | None]:
    """The card ids Start asks and the job they are for; ([], None) without a plan."""
    if state is None or not chosen:
        return [], None
    from coach.jobs.planner import interview_job

    return interview_job(state.current, chosen, state.job_id)


def saved_jobs(services: Any) -> list[tuple[str, str]]:
    """The jobs practised before, for the box that brings one back: (label, id)."""
    try:
        jobs = services.store.jobs()
    except HistoryBusy:
        return []
    return [(f"{j.title}（{j.used_at:%m-%d}，{j.sessions}）", j.id) for j in jobs]


def saved_job_text(services: Any, job_id: str | None) -> str:
    """The JD of a job practised before ('' when none is picked)."""
    if not job_id:
        return ""
    try:
        jobs = services.store.jobs()
    except HistoryBusy:
        return ""
    return next((j.jd for j in jobs if j.id == job_id), "")
