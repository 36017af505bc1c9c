"""The program's decisions after a graded answer: follow up (on what) or move on.

Why the program and not the model: the grade knows which points were missed and how deep
the answer went; a small model asked "should you follow up?" follows up on everything.
The rules, in order, while follow-ups are left for this question:
1. a strong answer of its own route: ask about what the candidate said (the grade's question);
2. a point the grade found missing: probe it, most valuable first;
3. everything covered but the score not yet high: once, probe a covered point for depth;
otherwise, and always after "I don't know" or an empty answer (asking about a point of a
question the candidate just said they cannot answer reads as a machine), move on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from coach.config import Settings
from coach.grading.flags import GradeFlag
from coach.grading.models import Grade

_GAVE_UP = (GradeFlag.DONT_KNOW, GradeFlag.EMPTY)


@dataclass(frozen=True)
class Step:
    kind: Literal["own", "point", "depth", "next"]
    text: str | None = None
    """The question to ask (``own``: the grade's own follow-up)."""
    target: str | None = None
    """The key-point label to probe (``point``; ``depth``: a covered point, if any)."""


@dataclass
class FollowUpPlan:
    """One main question's follow-up state."""

    open_points: list[str] = field(default_factory=list)
    """Missed points not yet asked about, most valuable first."""
    covered: list[str] = field(default_factory=list)
    """Covered points, weakest first: what a depth follow-up may probe."""
    asked: int = 0
    depth_asked: bool = False
    own_follow_up: str | None = None
    score: float = 0.0
    gave_up: bool = False

    @classmethod
    def after_main(cls, grade: Grade, answer: str, settings: Settings) -> FollowUpPlan:
        said = answer.lower()
        open_points = list(grade.gaps) or [
            p.label for p in grade.points if p.status != "covered" and p.label.lower() not in said
        ]
        covered = [p for p in grade.points if p.status == "covered"]
        covered.sort(key=lambda p: p.similarity)
        depth = (grade.depth or 0.0) / 10
        own = (
            depth >= settings.grading.other_route_depth
            and grade.score >= settings.interview.pass_score
            and bool(grade.follow_up)
        )
        return cls(
            open_points=open_points,
            covered=[p.label for p in covered],
            own_follow_up=grade.follow_up if own else None,
            score=grade.score,
            gave_up=any(flag in grade.flags for flag in _GAVE_UP),
        )

    def after_follow_up(self, grade: Grade | None, answer: str) -> None:
        """A point the candidate has now spoken about is not asked again; after "I don't
        know" to a follow-up the question is left."""
        said = answer.lower()
        self.open_points = [p for p in self.open_points if p.lower() not in said]
        if grade is not None and any(flag in grade.flags for flag in _GAVE_UP):
            self.gave_up = True

    def next_step(self, settings: Settings) -> Step:
        if self.gave_up or self.asked >= settings.interview.follow_ups:
            return Step("next")
        if self.own_follow_up:
            text, self.own_follow_up = self.own_follow_up, None
            self.depth_asked = True
            return Step("own", text=text)
        if self.open_points:
            return Step("point", target=self.open_points.pop(0))
        if not self.depth_asked and self.score < settings.interview.depth_score:
            self.depth_asked = True
            return Step("depth", target=self.covered[0] if self.covered else None)
        return Step("next")
