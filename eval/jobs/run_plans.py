"""Plan the five example jobs (and the injected copies) with the served model, as the
interview tab does, and write each plan to eval/jobs/results/<name>.json and a summary
to stdout: areas (core / optional, found by the table or the model), cards matched,
questions written, deep dives, the allocation and the time of each step.

    .venv/bin/python eval/jobs/run_plans.py          # needs the index and `coach serve-model`
    .venv/bin/python eval/jobs/run_plans.py --no-llm

Checks printed at the end (figures in eval/README.md, "Interview for a job"):
- the backend JD plans no question about LLM training;
- no deep dive names an area alias its project's own text does not name;
- the injected JD and résumé give the same prompts and the same plan as the clean ones.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from coach.config import get_settings
from coach.corpus.catalog import load_corpus
from coach.index.retriever import HybridSearcher
from coach.jobs.plan import JobPlan, area_rules, names
from coach.jobs.planner import JobPlanner, PlanRequest
from coach.jobs.resume import template_question

HERE = Path(__file__).parent
RUNS = [
    ("llm-app", "llm-app.md", "resume-llm-app.md"),
    ("inference", "inference.md", "resume-llm-app.md"),
    ("training", "training.md", "resume-llm-app.md"),
    ("evaluation", "evaluation.md", "resume-llm-app.md"),
    ("backend", "backend.md", "resume-llm-app.md"),
    ("multimodal", "multimodal.md", "resume-llm-app.md"),  # held out: written after the checks
    ("llm-app-injected", "llm-app-injected.md", "resume-llm-app-injected.md"),
]
TRAINING_ALIASES = {a.lower() for r in area_rules() if r.name == "训练与微调" for a in r.aliases}


def summary(name: str, plan: JobPlan) -> dict:
    return {
        "job": name,
        "title": plan.title,
        "areas": [
            {
                "name": a.name,
                "core": a.core,
                "found_by": a.found_by,
                "terms": a.terms,
                "cards": [c.question for c in a.cards],
                "recent": [c.question for c in a.recent],
                "written": [
                    {"question": q.question, "points": [p.label for p in q.points]}
                    for q in a.written
                ],
            }
            for a in plan.areas
        ],
        "projects": [{"title": p.title, "areas": p.areas} for p in plan.projects],
        "deep_dives": [
            {"project": q.project, "area": q.area, "question": q.question, "by": q.model}
            for q in plan.deep_dives
        ],
        "questions": [f"[{q.area}] ({q.origin}) {q.question}" for q in plan.questions],
        "ignored": plan.ignored_lines + plan.resume_ignored,
        "notes": plan.notes,
        "seconds": plan.seconds,
    }


def claims(plan: JobPlan) -> list[str]:
    """Deep dives naming an area alias the project's own text does not name (the
    template's own generic words, 指标 in "用什么指标证明效果", aside)."""
    by_title = {p.title: p for p in plan.projects}
    out = []
    for q in plan.deep_dives:
        project = by_title[q.project]
        template = template_question(project, q.area).question
        for rule in area_rules():
            stated = set(names(project.text + project.title + template, rule))
            said = set(names(q.question, rule)) - stated
            if said:
                out.append(f"{q.question} names {sorted(said)}")
    return out


async def main(use_model: bool) -> None:
    settings = get_settings()
    cards = load_corpus(settings.paths.corpus_file).cards
    searcher = HybridSearcher(settings)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    plans: dict[str, JobPlan] = {}
    prompts: dict[str, list[str]] = {}
    for name, jd, resume in RUNS:
        seen: list[str] = []
        planner = JobPlanner(settings, searcher, cards, use_model=use_model)
        if use_model:
            planner._model = _SpyModel(planner.model, seen)  # type: ignore[assignment]
        request = PlanRequest(
            jd=(HERE / jd).read_text("utf-8"),
            resume=(HERE / resume).read_text("utf-8"),
            questions=settings.interview.questions,
        )
        plan = await planner.plan(request)
        plans[name], prompts[name] = plan, seen
        data = summary(name, plan)
        (out / f"{name}{'' if use_model else '-no-llm'}.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=1), "utf-8"
        )
        print(json.dumps(data, ensure_ascii=False, indent=1))
    backend = plans["backend"]
    training = [
        q.question
        for q in backend.questions
        if any(a in q.question.lower() for a in TRAINING_ALIASES) or q.area == "训练与微调"
    ]
    print("\n== checks ==")
    print(f"backend questions about LLM training: {training or 'none'}")
    for name, plan in plans.items():
        print(
            f"{name}: deep dives claiming what the project does not say: {claims(plan) or 'none'}"
        )
        print(f"{name}: plan seconds {plan.seconds}")
    clean, injected = plans["llm-app"], plans["llm-app-injected"]
    same = summary("x", clean) | {"ignored": [], "seconds": {}} == summary("x", injected) | {
        "ignored": [],
        "seconds": {},
    }
    print(f"injected JD + résumé: ignored lines {injected.ignored_lines + injected.resume_ignored}")
    print(f"injected JD + résumé: same prompts {prompts['llm-app'] == prompts['llm-app-injected']}")
    print(f"injected JD + résumé: same plan {same}")


class _SpyModel:
    """The served model, keeping each prompt it is sent (``bind`` keeps the spy)."""

    def __init__(self, model, seen: list[str], bound: dict | None = None) -> None:  # noqa: ANN001
        self.model, self.seen, self.bound = model, seen, bound or {}

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.model, name)

    def bind(self, **kwargs):  # noqa: ANN003, ANN201
        return _SpyModel(self.model, self.seen, {**self.bound, **kwargs})

    async def ainvoke(self, messages, **kwargs):  # noqa: ANN001, ANN003, ANN201
        self.seen.append("\n".join(str(m.content) for m in messages))
        model = self.model.bind(**self.bound) if self.bound else self.model
        return await model.ainvoke(messages, **kwargs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-llm", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(not args.no_llm))
