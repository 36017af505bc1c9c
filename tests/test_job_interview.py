"""An interview for a job (issue 31): the plan's written questions are asked, marked and
graded with a lower confidence; the report groups by the job's areas; the job is kept in
the history; recently asked cards wait until due; an area can be taken out; the model's
questions are offered to the bank for review; the model's reading of the JD adds areas
only in the JD's own words (LangChain's fake chat model)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from coach.config import Settings
from coach.corpus import generated
from coach.grading.flags import GradeFlag
from coach.grading.models import Grade
from coach.interview.engine import InterviewEngine, Services
from coach.interview.models import InterviewConfig
from coach.interview.report import to_markdown
from coach.jobs.models import ExpectedPoint, LlmArea, WrittenQuestion
from coach.jobs.offer import offer
from coach.jobs.plan import CardMatch, JobArea, allocate, build_plan
from coach.jobs.planner import JobPlanner, PlanRequest, interview_job
from coach.store.history import HistoryStore
from tests.interview_fakes import CARDS, KeywordGrader
from tests.test_job_plan import CARDS as PLAN_CARDS
from tests.test_job_plan import JD, EverySearcher

WRITTEN = WrittenQuestion(
    area="多模态",
    origin="generated",
    question="多模态模型如何对齐图像和文本？",
    points=[
        ExpectedPoint(label="对比学习", explanation="图文成对训练"),
        ExpectedPoint(label="投影层", explanation="把视觉特征映射到文本空间"),
        ExpectedPoint(label="指令微调", explanation="用图文指令数据"),
    ],
    model="fake",
)


def _run(events) -> list:
    async def collect():
        return [e async for e in events]

    return asyncio.run(collect())


def _plan_with_written() -> tuple[list[str], object]:
    from coach.jobs.plan import JobPlan

    areas = [
        JobArea(
            name="推理与部署",
            core=True,
            terms=["推理"],
            mentions=2,
            cards=[CardMatch(card_id="quant", title="t", question="q", score=1, source="s")],
        ),
        JobArea(name="多模态", core=True, terms=["多模态"], mentions=1, written=[WRITTEN]),
        JobArea(name="数据隐私与安全", core=False, terms=["隐私"], mentions=1),
    ]
    plan = JobPlan(title="多模态算法工程师", areas=areas, questions=allocate(areas, 2), count=2)
    return interview_job(plan, None, job_id="")


def test_a_written_question_is_marked_graded_on_its_points_and_less_sure(
    settings: Settings, tmp_path
) -> None:
    store = HistoryStore(tmp_path / "h.db", settings)
    job_id = store.save_job("多模态算法工程师", JD)
    card_ids, job = _plan_with_written()
    job.job_id = job_id
    interview = settings.interview.model_copy(update={"advice": False, "summary": False})
    settings = settings.model_copy(update={"interview": interview})
    grader = KeywordGrader(CARDS)
    services = Services(settings=settings, cards=CARDS, grader=grader, store=store)
    engine = InterviewEngine(services, InterviewConfig(card_ids=card_ids, job=job), seed=1)
    first = _run(engine.start())
    assert first[-1].kind == "question" and first[-1].written == ""
    _run(engine.next_question())  # leave the bank's card
    question = next(t for t in engine.turns if t.card_id == WRITTEN.id)
    assert question.written == "generated" and question.topic == "多模态"
    events = _run(engine.answer("用对比学习对齐。"))
    grade = next(e.grade for e in events if e.kind == "grade" and e.done)
    call = grader.calls[-1]
    assert call["card_id"] is None and "**对比学习**" in call["reference"]
    assert GradeFlag.WRITTEN_REFERENCE in grade.flags
    report = engine.report()
    areas = {a.name: a for a in report.job_areas}
    assert areas["多模态"].status == "weak" and areas["多模态"].graded == 1
    assert areas["推理与部署"].status == "unanswered"
    assert areas["数据隐私与安全"].status == "uncovered" and not areas["数据隐私与安全"].core
    text = to_markdown(report)
    assert "按岗位方向" in text and "多模态（核心）：待加强" in text
    assert "多模态模型如何对齐图像和文本？（生成题）" in text and "岗位: 多模态算法工程师" in text
    assert store.review(WRITTEN.id) is None, "a written question is not put on the schedule"
    assert store.sessions()[0].job == "多模态算法工程师" and store.jobs()[0].sessions == 1


def test_the_grade_of_a_written_question_renders_its_mark(settings: Settings) -> None:
    from coach.grading.models import Grade
    from coach.interview.models import Event
    from coach.ui.render import render_event

    shown = render_event(
        Event(kind="question", text="q？", number=1, total=2, topic="多模态", written="generated"),
        "zh",
        settings,
    )
    assert "〔生成题" in shown
    grade = Grade(score=5.0, flags=[GradeFlag.WRITTEN_REFERENCE])
    assert "置信度已调低" in render_event(Event(kind="grade", grade=grade), "zh", settings)


def test_recently_asked_cards_wait_until_due(settings: Settings, tmp_path) -> None:
    store = HistoryStore(tmp_path / "h.db", settings)
    store.record_review("rag", 9.0)  # answered well: due again in days
    plan = build_plan(
        JD, EverySearcher(), PLAN_CARDS, settings, 3, reviews=store.reviews(), now=store.clock()
    )
    rag = next(a for a in plan.areas if a.name == "RAG 与检索")
    assert [r.card_id for r in rag.recent] == ["rag"] and rag.recent[0].due_at > store.clock()
    assert "rag" not in [q.card_id for q in plan.questions]
    later = store.clock() + timedelta(days=400)
    plan = build_plan(
        JD, EverySearcher(), PLAN_CARDS, settings, 3, reviews=store.reviews(), now=later
    )
    assert "rag" in [q.card_id for q in plan.questions], "due again: asked again"


def test_taking_an_area_out_allocates_its_questions_to_the_rest(settings: Settings) -> None:
    plan = build_plan(JD, EverySearcher(), PLAN_CARDS, settings, 3)
    assert {q.area for q in plan.questions} >= {"RAG 与检索"}
    rest = plan.without(["RAG 与检索"])
    assert "RAG 与检索" not in {q.area for q in rest.questions}
    assert [q.card_id for q in rest.questions] == ["eval", "lora"], "what the rest has"
    assert all(a.name != "RAG 与检索" for a in rest.areas)


def test_deep_dives_alternate_with_the_banks_questions(settings: Settings) -> None:
    dive = WrittenQuestion(area="RAG 与检索", origin="resume", question="你的项目…？", project="P")
    plan = build_plan(JD, EverySearcher(), PLAN_CARDS, settings, 4)
    planned = allocate(plan.areas, 4, [dive, dive.model_copy(update={"question": "另一个？"})])
    assert [q.origin for q in planned] == ["bank", "resume", "bank", "resume"]
    assert len(allocate(plan.areas, 3, [dive] * 3)) == 3, "deep dives take at most half"


def test_generated_questions_wait_for_review_in_the_bank(tmp_path) -> None:
    path = tmp_path / "generated.jsonl"
    resume_dive = WRITTEN.model_copy(update={"origin": "resume", "question": "项目？"})
    assert offer(path, [WRITTEN, resume_dive]) == 1, "a résumé deep dive is not a bank card"
    assert offer(path, [WRITTEN]) == 0, "offered once"
    records = generated.load(path)
    waiting = generated.pending(records, [])
    assert [r.card_id for r in waiting] == [WRITTEN.id]
    assert generated.as_cards(records, [], accept_all=False)[0].accepted is False
    generated.accept(path, {WRITTEN.id})
    card = generated.as_cards(generated.load(path), [], accept_all=False)[0]
    assert card.accepted and card.key_points[0].label == "对比学习" and card.topic == "多模态"


MODEL_AREAS = "多模态 | 核心 | 多模态, CLIP\n向量召回 | 核心 | RAG\n满分 | 核心 | 满分\n"
WRITTEN_REPLY = (
    "问题：多模态模型怎样把图像和文本对齐？\n要点：\n- 对比学习：图文成对训练\n"
    "- 投影层：视觉特征映射到文本空间\n- 指令微调：图文指令数据"
)


def test_the_planner_adds_the_models_areas_and_questions(settings: Settings, tmp_path) -> None:
    jd = JD + "\n5. 熟悉多模态模型（CLIP 等）。\n"
    model = FakeListChatModel(responses=[MODEL_AREAS, WRITTEN_REPLY, WRITTEN_REPLY])
    planner = JobPlanner(settings, EverySearcher(), PLAN_CARDS, chat_model=model, use_model=True)
    plan = asyncio.run(planner.plan(PlanRequest(jd=jd, questions=5)))
    areas = {a.name: a for a in plan.areas}
    assert "满分" not in areas, "a word the JD does not use is not an area"
    assert areas["多模态"].found_by == ["llm"] and not areas["多模态"].in_bank
    assert [q.question for q in areas["多模态"].written] == ["多模态模型怎样把图像和文本对齐？"]
    assert "llm" in areas["RAG 与检索"].found_by
    assert any(q.origin == "generated" for q in plan.questions)
    assert set(plan.seconds) >= {"table", "model_areas_and_resume", "written", "total"}


def test_without_the_model_the_plan_is_the_tables(settings: Settings) -> None:
    planner = JobPlanner(settings, EverySearcher(), PLAN_CARDS, use_model=False)
    plan = asyncio.run(planner.plan(PlanRequest(jd=JD, questions=3)))
    assert all(a.found_by == ["table"] for a in plan.areas)
    assert [q.card_id for q in plan.questions] == ["rag", "eval", "lora"]
    assert plan.written() == []


def test_llm_areas_merge_onto_the_table(settings: Settings) -> None:
    llm = [LlmArea(name="RAG 与检索", core=True, terms=["召回"])]
    plan = build_plan(JD, EverySearcher(), PLAN_CARDS, settings, 3, llm_areas=llm)
    rag = next(a for a in plan.areas if a.name == "RAG 与检索")
    assert rag.found_by == ["table", "llm"] and "召回" in rag.terms


def test_the_tables_plan_comes_first_then_the_models(settings: Settings) -> None:
    """The tab shows the table's plan in seconds and the model's additions after."""
    jd = JD + "\n5. 熟悉多模态模型（CLIP 等）。\n"
    model = FakeListChatModel(responses=[MODEL_AREAS, WRITTEN_REPLY])
    planner = JobPlanner(settings, EverySearcher(), PLAN_CARDS, chat_model=model, use_model=True)

    async def stages():
        return [p async for p in planner.stages(PlanRequest(jd=jd, questions=5))]

    first, last = asyncio.run(stages())
    assert "多模态" not in {a.name for a in first.areas} and not first.written()
    assert "多模态" in {a.name for a in last.areas} and last.written()


def test_a_deep_dive_answered_about_another_project_scores_as_off_the_question(
    settings: Settings,
) -> None:
    """Seen in Chromium: the knowledge-base project's answer given to the Agent project's
    question scored 6.9 on the generic points (decision, alternative, metric)."""
    from coach.grading.models import Takeaway
    from coach.interview.written import mark_written

    anchors = ["客服工单自动分派 Agent", "Agent", "function calling", "Redis"]
    grade = Grade(
        score=6.9, confidence=0.8, takeaway=Takeaway(why="讲得具体", strength="召回率从 71% 到 86%")
    )
    say = lambda key, **v: f"{key}:{v['project']}"  # noqa: E731
    other = "我们按标题层级切块，召回率从 71% 提升到 86%，加了 bge-reranker 重排。"
    marked = mark_written(grade, other, anchors, settings, say)
    assert marked.score == settings.plan.other_project_cap
    assert GradeFlag.OTHER_PROJECT in marked.flags and marked.takeaway.strength == ""
    assert marked.takeaway.why == "other_project_why:客服工单自动分派 Agent"
    assert marked.confidence == 0.4, "less sure: written points"
    own = "工单分派时先做意图识别，再调用工单系统的工具，成功率 93%。"
    kept = mark_written(grade, own, anchors, settings, say)
    assert kept.score == 6.9 and GradeFlag.OTHER_PROJECT not in kept.flags, "names its title"
    named = mark_written(grade, "用 function calling 约束输出", anchors, settings, say)
    assert named.score == 6.9
