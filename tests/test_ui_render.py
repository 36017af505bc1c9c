"""The grade as the interview chat shows it: the score with its band word and why, the
strongest part quoted, the one addition; the signals (evidence, confidence, the model's
score) folded away below."""

from __future__ import annotations

from coach.grading.models import Grade, Takeaway
from coach.ui.render import render_grade


def grade(**extra: object) -> Grade:
    return Grade(
        score=6.5,
        evidence=6.1,
        confidence=0.72,
        **extra,
    )


def test_the_signals_line_shows_the_llm_score_only_when_it_graded() -> None:
    with_llm = render_grade(grade(llm_score=7.0, signals=["rubric", "llm"]), "zh")
    assert "与参考答案吻合 6.1/10" in with_llm
    assert "置信度 72% · 模型评分 7.0/10" in with_llm
    alone = render_grade(grade(), "en")
    assert "agreement with the reference 6.1/10" in alone
    assert "confidence 72%" in alone and "model's score" not in alone


TAKEAWAY = Takeaway(
    why="主要的点都讲到了，也有解释。",
    strength="可以用 <b>Dropout</b> 随机丢弃神经元",
    addition="早停",
    addition_detail="验证集损失不再下降时停止训练。",
)


def test_the_takeaway_comes_first_and_the_signals_are_folded_away() -> None:
    text = render_grade(grade(takeaway=TAKEAWAY), "zh")
    head, _, folded = text.partition("<details>")
    assert head.startswith("**得分：6.5/10 · 良好**　主要的点都讲到了，也有解释。")
    assert "👍 答得好的地方：「可以用 &lt;b&gt;Dropout&lt;/b&gt; 随机丢弃神经元」" in head
    assert "➕ 最值得补充：「早停」——参考答案：验证集损失不再下降时停止训练。" in head
    assert "与参考答案吻合" not in head and "与参考答案吻合 6.1/10" in folded
    assert folded.rstrip().endswith("</details>")
    english = render_grade(grade(takeaway=TAKEAWAY), "en")
    assert "**Score: 6.5/10 · good**" in english and "How the score was made" in english


def test_bands_follow_the_floors_and_a_weak_answer_is_not_praised() -> None:
    floors = {"excellent": 8.0, "good": 6.0, "fair": 4.0}
    for score, word in ((8.6, "优秀"), (6.0, "良好"), (4.5, "一般"), (2.0, "待加强")):
        assert f"· {word}**" in render_grade(Grade(score=score), "zh", floors=floors)
    weak = render_grade(Grade(score=2.0, takeaway=TAKEAWAY), "zh", floors=floors)
    assert "答得好的地方" not in weak and "最值得补充" in weak
    wrong = TAKEAWAY.model_copy(update={"correct": True})
    assert "⚠️ 需要更正：「早停」" in render_grade(Grade(score=3.0, takeaway=wrong), "zh")
    other = TAKEAWAY.model_copy(update={"also": True})
    assert "📎 参考答案还提到：「早停」" in render_grade(Grade(score=8.0, takeaway=other), "zh")


def test_a_grade_saved_before_takeaways_still_renders() -> None:
    old = Grade.model_validate_json('{"score": 5.0, "feedback": "讲到了参考答案里的：正则化。"}')
    text = render_grade(old, "zh")
    assert text.startswith("**得分：5.0/10 · 一般**") and "反馈：讲到了参考答案里的" in text
