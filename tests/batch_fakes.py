"""Fake graders for batch tests: real ``Grade`` objects computed from the answer, so the
batch code paths (journal, export, report) see what a grader really returns.

Also run as a script by the resume test: ``python batch_fakes.py IN OUT DELAY`` grades
IN into OUT slowly, so the test can kill it mid-way.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from coach.grading.models import Grade, PointResult, ReferenceUsed

KEY_POINTS = ("正则化", "Dropout", "数据增强", "早停")


def keyword_grade(question: str, answer: str, reference: str | None = None) -> Grade:
    """Score = share of KEY_POINTS the answer names, 0-10."""
    points = [
        PointResult(label=k, status="covered" if k.lower() in answer.lower() else "missed")
        for k in KEY_POINTS
    ]
    score = 10 * sum(p.status == "covered" for p in points) / len(points)
    ref = (
        ReferenceUsed(title="given reference")
        if reference
        else ReferenceUsed(
            card_id="card-overfit",
            title="如何防止过拟合",
            question="在大模型训练过程中，如何防止过拟合？",
            sources=["000.txt:91", "002.txt:12"],
        )
    )
    return Grade(
        score=score,
        points=points,
        feedback=f"Missed: {', '.join(p.label for p in points if p.status == 'missed')}",
        follow_up="Dropout 为什么能减少过拟合？",
        references=[ref],
        signals=["rubric"],
        flags=[] if score else ["off_topic"],
    )


class FakeGrader:
    """Records every call; optional delay makes rows overlap under concurrency."""

    def __init__(self, delay: float = 0.0, fail_on: str | None = None):
        self.delay = delay
        self.fail_on = fail_on
        self.calls: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def agrade(
        self,
        question: str,
        answer: str,
        *,
        reference: str | None = None,
        card_id: str | None = None,
        llm_timeout: float | None = None,
    ) -> Grade:
        self.calls.append(answer)
        self.llm_timeout = llm_timeout
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if self.fail_on and self.fail_on in answer:
                raise RuntimeError("model exploded")
            return keyword_grade(question, answer, reference)
        finally:
            self.in_flight -= 1


if __name__ == "__main__":
    from coach.batch.run import run_batch

    source, target, delay = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    run_batch(
        source, target, use_llm=False, concurrency=2, grader=FakeGrader(delay), progress=False
    )
