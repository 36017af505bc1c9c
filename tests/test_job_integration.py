"""A job's plan with the real vLLM server (SmolLM2 in tests): whatever the model replies,
the plan keeps the table's areas, adds only areas in the JD's own words, and its written
questions and deep dives pass their checks; the injected lines never reach it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from coach.config import get_settings
from coach.jobs.plan import area_rules, names
from coach.jobs.planner import JobPlanner, PlanRequest
from tests.test_job_plan import CARDS, EverySearcher

pytestmark = [pytest.mark.slow, pytest.mark.integration]

JOBS = Path(__file__).parent.parent / "eval" / "jobs"


def test_a_plan_with_the_real_model_server(vllm_server, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COACH_LLM_BASE_URL", vllm_server.base_url)
    monkeypatch.setenv("COACH_LLM_MODEL", vllm_server.model)
    monkeypatch.setenv("COACH_LLM_MAX_RETRIES", "0")
    monkeypatch.setenv("COACH_PLAN_LLM_TIMEOUT", "45")
    monkeypatch.setenv("COACH_PLAN_ATTEMPTS", "1")
    monkeypatch.setenv("COACH_PLAN_WRITTEN_AREAS", "2")
    get_settings.cache_clear()
    settings = get_settings()
    jd = (JOBS / "llm-app-injected.md").read_text("utf-8")
    request = PlanRequest(
        jd=jd, resume=(JOBS / "resume-llm-app-injected.md").read_text("utf-8"), questions=4
    )
    planner = JobPlanner(settings, EverySearcher(), CARDS, use_model=True)

    async def stages():
        return [p async for p in planner.stages(request)]

    table, plan = asyncio.run(stages())
    assert {a.name for a in table.areas} <= {a.name for a in plan.areas}
    kept = "\n".join(line for line in jd.splitlines() if line not in plan.ignored_lines).lower()
    for area in plan.areas:
        if area.found_by == ["llm"]:
            assert all(term.lower() in kept for term in area.terms), area
        for question in area.written:
            words = [area.name, *area.terms]
            assert any(w.lower() in question.question.lower() for w in words), question
            assert len(question.points) >= 3
    assert len(plan.ignored_lines) == 2 and len(plan.resume_ignored) == 2
    projects = {p.title: p for p in plan.projects}
    for dive in plan.deep_dives:
        project = projects[dive.project]
        for rule in area_rules():
            said = set(names(dive.question, rule))
            assert said <= set(names(project.text + project.title + "指标", rule)), dive
    assert {"table", "model_areas_and_resume", "written", "total"} <= set(plan.seconds)
