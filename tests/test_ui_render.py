"""The grade as the interview chat shows it: evidence, confidence and the model's score."""

from __future__ import annotations

from coach.grading.models import Grade
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
