"""The debrief at the end of an interview (coach/interview/report.py): skipped questions
are skipped, not 0; what a follow-up answered is no longer missed; strengths and gaps
quote the candidate; exactly three ranked actions; the 下一题 button leaves the
remaining follow-ups without failing them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from coach.config import Settings
from coach.grading.models import Grade, PointResult, Takeaway
from coach.interview.models import InterviewConfig, Turn
from coach.interview.report import build_report, to_html, to_markdown
from coach.store.history import HistoryStore
from coach.ui.render import render_report_summary
from tests.interview_fakes import CARDS
from tests.test_interview_engine import make_engine, run

CARDS_BY_ID = {c.id: c for c in CARDS}
STRONG = "先看验证集曲线，训练集损失一直降而验证集开始升就是过拟合，我会先加 dropout 0.1。"
WEAK = "就是模型学得太好了。"


def _grade(score: float, covered: list[str], missed: list[str], take: Takeaway) -> Grade:
    points = [PointResult(label=x, status="covered", evidence="…") for x in covered]
    points += [PointResult(label=x, status="missed") for x in missed]
    return Grade(score=score, points=points, takeaway=take)


def _turn(card_id: str, **fields: object) -> Turn:
    """A turn about one of the fake cards (main unless ``kind`` says otherwise)."""
    card = CARDS_BY_ID[card_id]
    base = {"kind": "main", "topic": card.topic, "title": card.title, "text": card.question}
    return Turn(card_id=card_id, **{**base, "outcome": "answered", **fields})  # type: ignore[arg-type]


def _turns() -> list[Turn]:
    strong = _turn(
        "overfit",
        answer=STRONG,
        grade=_grade(
            7.5,
            ["dropout"],
            ["augmentation", "early stopping"],
            Takeaway(
                kind="covered_thin",
                strength="训练集损失一直降而验证集开始升",
                addition="augmentation",
            ),
        ),
    )
    # the follow-up asked about augmentation, and the candidate made the point
    follow = _turn(
        "overfit",
        kind="follow_up",
        text="augmentation?",
        targets=["augmentation"],
        answer="做数据增强，比如随机裁剪。",
        grade=_grade(8.0, ["augmentation"], [], Takeaway()),
    )
    weak = _turn(
        "lr",
        answer=WEAK,
        grade=_grade(
            2.0,
            [],
            ["warmup", "decay"],
            Takeaway(kind="little", strength="", addition="warmup", addition_detail="先小后大"),
        ),
    )
    skipped = _turn("quant", outcome="skipped")
    return [strong, follow, weak, skipped]


def _report(language: str = "zh"):  # noqa: ANN202
    return build_report(
        _turns(),
        CARDS_BY_ID,
        session_id="s1",
        config=InterviewConfig(questions=3, language=language),  # type: ignore[arg-type]
        created_at=datetime(2026, 12, 7, 18, 0),
        pass_score=6.0,
    )


def test_skipped_questions_are_skipped_not_zero() -> None:
    report = _report()
    topics = {t.topic: t for t in report.weakest_topics}
    assert topics["训练优化"].mean_score == 4.75 and topics["训练优化"].graded == 2
    assert topics["推理与部署"].mean_score is None, "every question skipped: no score"
    assert report.weakest_topics[-1].topic == "推理与部署", "listed after graded topics"
    assert "全部跳过（1 题），没有得分" in to_markdown(report)


def test_what_a_follow_up_answered_is_no_longer_missed() -> None:
    first = _report().results[0]
    assert first.missed == ["early stopping"]
    assert first.answered_in_follow_up == ["augmentation"]


def test_strengths_and_gaps_quote_the_candidate_and_there_are_three_actions() -> None:
    report = _report()
    assert [h.quote for h in report.strengths] == ["训练集损失一直降而验证集开始升"]
    # the strong answer's addition was answered in the follow-up: only the weak one's gap
    assert len(report.gaps) == 1
    gap = report.gaps[0]
    assert gap.title == "title lr" and gap.quote == WEAK and "warmup" in gap.point
    assert len(report.actions) == 3
    first, habit, skipped = report.actions
    assert "title lr" in first and "warmup" in first and "lr.md:10" in first
    assert "多讲一句" in habit or "骨架" in habit
    assert "title quant" in skipped and "1 道题" in skipped
    markdown = to_markdown(report)
    assert markdown.index("接下来做的三件事") < markdown.index("各题得分")
    assert "1. 复习「title lr」" in markdown
    html = to_html(report)
    assert "<ol><li>复习「title lr」" in html and "你说「训练集损失一直降而验证集开始升」" in html
    chat = render_report_summary(report, "zh")
    assert "**接下来做的三件事**" in chat and "→ 还要讲到「warmup」：先小后大" in chat
    assert "推理与部署" not in chat.split("。")[1], "a skipped topic is not the weakest"


def test_three_actions_even_when_everything_went_well() -> None:
    turns = _turns()[:2]
    report = build_report(
        turns,
        CARDS_BY_ID,
        session_id="s2",
        config=InterviewConfig(questions=1, language="en"),
        created_at=datetime(2026, 12, 7),
        pass_score=6.0,
    )
    assert report.gaps == [] and len(report.actions) == 3
    assert all(a.isascii() or "训练优化" in a for a in report.actions), report.actions


def test_next_question_leaves_the_follow_ups_without_failing_them(
    settings: Settings, tmp_path: Path
) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3", settings)
    engine = make_engine(settings, store, questions=2)
    run(engine.start())
    card = engine.services.cards_by_id[engine.current_turn.card_id]
    events = run(engine.answer(f"I would use {card.key_points[0].label}."))
    assert events[-1].kind == "follow_up" and engine.phase == "awaiting_follow_up"
    events = run(engine.next_question())
    assert events[-1].kind == "question" and engine.index == 1, "the next main question"
    assert [t.outcome for t in engine.turns] == ["answered", "passed", "pending"]
    run(engine.next_question())  # on a main question it is a skip
    report = engine.report()
    assert [r.outcome for r in report.results] == ["answered", "skipped"]
    assert report.results[0].score is not None


def test_a_gap_on_another_route_is_worded_as_what_the_reference_also_mentions() -> None:
    turns = _turns()[:1]
    take = turns[0].grade.takeaway.model_copy(update={"also": True, "addition": "early stopping"})
    turns[0].grade = turns[0].grade.model_copy(update={"takeaway": take})
    report = build_report(
        turns,
        CARDS_BY_ID,
        session_id="s3",
        config=InterviewConfig(questions=1),
        created_at=datetime(2026, 12, 7),
        pass_score=6.0,
    )
    assert report.gaps[0].also
    assert "参考答案还提到「early stopping」" in to_markdown(report)
    assert "→ 参考答案还提到「early stopping」" in render_report_summary(report, "zh")


def _finish_one_question(settings: Settings, tmp_path: Path, replies: list[str]):
    from tests.interview_fakes import recording_model

    quiet = settings.interview.model_copy(update={"rephrase": False, "follow_ups": 0})
    store = HistoryStore(tmp_path / "s.sqlite3", settings)
    model = recording_model(replies)
    engine = make_engine(
        settings.model_copy(update={"interview": quiet}),
        store,
        model=model,
        questions=1,
        summary=True,
    )
    run(engine.start())
    label = CARDS_BY_ID[engine.current_turn.card_id].key_points[0].label
    return engine, run(engine.answer(f"我会用 {label}，因为它能减少过拟合。")), model


def test_the_coach_summary_streams_after_the_debrief_and_goes_into_the_report(
    settings: Settings, tmp_path: Path
) -> None:
    said = "这一场整体待加强，平均 3.3 分。最好的一点是你先讲了原理。接下来先把漏掉的要点补上。"
    engine, events, model = _finish_one_question(settings, tmp_path, [said])
    kinds = [e.kind for e in events]
    assert kinds.index("report") < kinds.index("summary"), "the debrief first, then the summary"
    summaries = [e for e in events if e.kind == "summary"]
    mean = engine.report().mean_score
    opening = f"这一场整体待加强，平均 {mean:.1f} 分。"
    assert summaries[0].text == opening and not summaries[0].done, "the program's opening at once"
    final = opening + "最好的一点是你先讲了原理。接下来先把漏掉的要点补上。"
    assert summaries[-1].done and summaries[-1].text == final, "the repeated opening dropped"
    assert (
        "Facts of the interview" in model.prompts[-1]
        and f"平均分: {mean:.1f} (待加强)" in model.prompts[-1]
    )
    report = engine.report()
    assert report.summary == final and final in to_markdown(report) and final in to_html(report)


def test_an_unfounded_summary_gives_way_to_the_programs(settings: Settings, tmp_path: Path) -> None:
    for invented in ("你得了 95 分。", "你对这个问题有深入的理解。", "该候选人答得一般。"):
        engine, events, _ = _finish_one_question(settings, tmp_path, [invented])
        final = [e for e in events if e.kind == "summary" and e.done][0].text
        assert invented not in final, "a number the facts lack, praise when weak, third person"
        assert final.startswith("这一场整体待加强") and "最先要补的是" in final
        assert engine.report().summary == final
