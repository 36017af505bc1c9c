"""Questions a job's plan wrote for areas the bank does not cover, offered to the bank.

Why the generated-cards store (coach/corpus/generated.py): it is already where a card the
model wrote waits for a person. The question-bank tab lists it, a person edits, accepts
or rejects it, and once accepted the next ingest makes it a card of the bank, asked and
graded like any other. Until then it is asked only in the plan that wrote it, marked
"generated", and graded with a lower confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from coach.corpus import generated
from coach.jobs.models import WrittenQuestion


def offer(path: Path, questions: Sequence[WrittenQuestion]) -> int:
    """Add the model's questions to the review queue; the number newly offered. A
    question offered before (accepted, rejected or still waiting) is not offered again."""
    records = generated.load(path)
    added = 0
    for question in questions:
        if question.origin != "generated":
            continue  # a résumé deep dive is about one candidate's project: not a bank card
        key = generated.OFFERED_PREFIX + question.id
        if key in records:
            continue
        record = generated.GeneratedCard(
            key=key,
            text_hash=question.id,
            file=f"{generated.OFFERED_PREFIX}{question.area}",
            start_line=0,
            end_line=0,
            topic=question.area,
            question=question.question,
            answer="\n".join(
                f"{p.label}：{p.explanation}" if p.explanation else p.label for p in question.points
            ),
            key_points=[p.label for p in question.points],
            model=question.model,
        )
        generated.append(path, record)
        records[key] = record
        added += 1
    return added
