"""A job's plan with the model's part: the areas it reads from the JD beside the alias
table's, questions it writes for areas the bank does not cover, and deep dives into the
résumé's projects (issue 31).

Why the model only adds: the deterministic plan (coach/jobs/plan.py) is made first from
the same JD, so a model that is down, slow or wrong leaves the candidate with the table's
areas and the bank's cards, never with nothing. What the model returns is checked before
it counts: an area's words must be the JD's own, a written question must name its area,
a deep dive may name no technique the project does not (coach/jobs/llm_areas.py,
writer.py, resume.py). The JD and the résumé are data in every prompt.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from coach.config import Settings
from coach.corpus.models import QuestionCard
from coach.index.tokenize import has_cjk
from coach.interview.models import JobArea as ReportArea
from coach.interview.models import JobContext
from coach.jobs.model import UsesPlanModel
from coach.jobs.models import LlmArea, WrittenQuestion
from coach.jobs.plan import JobPlan, Searcher, allocate, build_plan, jd_lines, written_card

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)

CONTEXT_CHARS = 600
"""JD lines given to the writer for one area: those naming it, cut to this (the 1.5B
model's prompt stays short, and the lines about other areas only distract it)."""


class PlanRequest(BaseModel):
    jd: str
    resume: str = ""
    """The résumé's text (coach/jobs/resume.py reads files); empty: none."""
    questions: int


def area_context(lines: Sequence[str], terms: Sequence[str]) -> str:
    """The JD's lines that name the area, for the writer."""
    lowered = [t.lower() for t in terms]
    picked = [line for line in lines if any(t in line.lower() for t in lowered)]
    return "\n".join(picked)[:CONTEXT_CHARS]


class JobPlanner(UsesPlanModel):
    """Plans interviews for jobs; one per process (the model client is made once)."""

    def __init__(
        self,
        settings: Settings,
        searcher: Searcher,
        cards: Sequence[QuestionCard],
        *,
        chat_model: BaseChatModel | None = None,
        use_model: bool | None = None,
    ) -> None:
        self.settings = settings
        self.searcher = searcher
        self.cards = cards
        self._model = chat_model
        self.use_model = settings.plan.llm if use_model is None else use_model

    async def plan(
        self,
        request: PlanRequest,
        *,
        reviews: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> JobPlan:
        """The finished plan (the last of ``stages``)."""
        plans = [plan async for plan in self.stages(request, reviews=reviews, now=now)]
        return plans[-1]

    async def stages(
        self,
        request: PlanRequest,
        *,
        reviews: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> AsyncIterator[JobPlan]:
        """The table's plan at once (areas, the bank's cards, the résumé's template deep
        dives: about 2 s), then, when the model takes part, the plan with its areas, its
        phrasing of the deep dives and its questions for uncovered areas (a minute or
        two on the CPU pack). Raises PlanError (coach/jobs/plan.py) for a JD that cannot
        be planned from and ResumeError for a résumé that cannot be read; the model
        failing is a note."""
        settings = self.settings
        started = time.perf_counter()
        lines, _ = jd_lines(request.jd, settings)
        first = self._bank_plan(request, [], reviews, now)
        dives = self._resume(first, request.resume)
        first.questions = allocate(first.areas, request.questions, first.deep_dives)
        first.seconds = {"table": round(time.perf_counter() - started, 2)}
        first.seconds["total"] = first.seconds["table"]
        yield first
        if not self.use_model:
            return
        notes: list[str] = []
        language = "zh" if has_cjk(request.jd) else "en"
        phrased, llm_areas = await asyncio.gather(
            self._phrase(first, dives), self._read_areas(lines, notes)
        )
        read = time.perf_counter()
        plan = self._bank_plan(request, llm_areas, reviews, now)
        plan.resume_ignored, plan.projects, plan.deep_dives = (
            first.resume_ignored,
            first.projects,
            phrased,
        )
        if settings.plan.generated_per_area:
            await self._write(plan, lines, language, notes)
        plan.questions = allocate(plan.areas, request.questions, plan.deep_dives)
        plan.notes = notes
        plan.seconds = {
            "table": first.seconds["table"],
            "model_areas_and_resume": round(read - started - first.seconds["table"], 2),
            "written": round(time.perf_counter() - read, 2),
            "total": round(time.perf_counter() - started, 2),
        }
        yield plan

    def _bank_plan(
        self,
        request: PlanRequest,
        llm_areas: list[LlmArea],
        reviews: dict[str, Any] | None,
        now: datetime | None,
    ) -> JobPlan:
        return build_plan(
            request.jd,
            self.searcher,
            self.cards,
            self.settings,
            request.questions,
            llm_areas=llm_areas,
            reviews=reviews,
            now=now,
        )

    async def _read_areas(self, lines: list[str], notes: list[str]) -> list[LlmArea]:
        from coach.jobs.llm_areas import read_areas

        result = await read_areas(lines, self.model, self.settings)
        if result.note:
            notes.append(result.note)
        return list(result.areas)

    def _resume(self, plan: JobPlan, text: str) -> list[WrittenQuestion]:
        """The résumé's projects and the template deep dives into them (no model)."""
        from coach.jobs.resume import deep_dive_questions, projects, resume_text

        if not text.strip():
            return []
        kept, ignored = resume_text(text, self.settings)
        plan.resume_ignored = ignored
        plan.projects = projects(kept)
        names = [a.name for a in plan.areas]
        count = self.settings.plan.resume_questions
        plan.deep_dives = deep_dive_questions(plan.projects, names, count)
        return plan.deep_dives

    async def _phrase(self, plan: JobPlan, dives: list[WrittenQuestion]) -> list[WrittenQuestion]:
        """The model's more specific deep dives, each checked (coach/jobs/resume.py); the
        template stands where the model's is refused."""
        if not dives:
            return []
        from coach.jobs.resume import ResumeWriter

        writer = ResumeWriter(self.settings, self.model)
        by_title = {p.title: p for p in plan.projects}
        return list(await asyncio.gather(*(writer.phrase(by_title[q.project], q) for q in dives)))

    async def _write(
        self, plan: JobPlan, lines: list[str], language: str, notes: list[str]
    ) -> None:
        from coach.jobs.writer import QuestionWriter

        wanted = [a for a in plan.areas if not a.in_bank][: self.settings.plan.written_areas]
        if not wanted:
            return
        writer = QuestionWriter(self.settings, self.model)
        contexts = {a.name: area_context(lines, [a.name, *a.terms]) for a in wanted}
        try:
            written = await writer.write_many(
                [(a.name, a.terms) for a in wanted], contexts, language
            )
        except Exception as exc:  # the plan stands on the bank's cards
            logger.warning("Writing questions for uncovered areas failed", exc_info=True)
            notes.append(f"The model wrote no questions ({type(exc).__name__}: {exc}).")
            return
        for area in wanted:
            area.written = written.get(area.name, [])


def interview_job(
    plan: JobPlan, chosen: Sequence[str] | None = None, job_id: str = ""
) -> tuple[list[str], JobContext]:
    """The card ids an interview asks (the plan's, less those unticked) and the job it
    is for: the areas the report groups by and the written questions' cards."""
    keep = None if chosen is None else set(chosen)
    questions = [q for q in plan.questions if keep is None or q.card_id in keep]
    written: dict[str, WrittenQuestion] = {q.id: q for q in plan.written()}
    asked_written = [written[q.card_id] for q in questions if q.card_id in written]
    context = JobContext(
        job_id=job_id,
        title=plan.title,
        areas=[ReportArea(name=a.name, core=a.core, covered=a.covered) for a in plan.areas],
        card_areas={q.card_id: q.area for q in questions},
        written=[written_card(q) for q in asked_written],
        written_origin={q.id: q.origin for q in asked_written},
        anchors={q.id: q.anchors for q in asked_written if q.anchors},
    )
    return [q.card_id for q in questions], context
