"""Two label-free baselines computed in the same run as coach's own grades.

Why in the same run: a figure for coach means something only beside what a plain
method reaches on the same answers with the same model. Both use the e5 model coach
loads, nothing fitted: the sentence cosine of answer and reference, and plain token
alignment (BERTScore-style reference-token recall on e5's last layer, IDF from the set's
own references, question tokens weighted 0, raw recall mapped by clip((R-0.75)/0.25)).
"""

from __future__ import annotations

import csv
from pathlib import Path

from coach.config import Settings
from coach.evaluation.agreement import Agreement, HumanScore, agreement
from coach.grading.evidence import Idf, TokenEncoder, align, rescale

LAST_LAYER = -1
RECALL_FLOOR = 0.75
"""Where unrelated text lands on e5's last-layer recall (the issue's fixed mapping)."""


def _rows(path: Path, ids: list[str]) -> list[dict[str, str]]:
    wanted = set(ids)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["id"] in wanted]


def baseline_agreements(
    path: Path, ids: list[str], humans: dict[str, HumanScore], *, settings: Settings, scale: float
) -> list[Agreement]:
    from coach.index.embeddings import get_embedder

    rows = [r for r in _rows(path, ids) if (r.get("reference") or "").strip()]
    if not rows:
        return []
    last = settings.model_copy(update={"grading_token_layer": LAST_LAYER})
    encoder = TokenEncoder(last, get_embedder(settings))
    texts = sorted({t for r in rows for t in (r["question"], r["answer"], r["reference"])})
    views = {v.text: v for v in encoder.views(texts, cache=False)}
    idf = Idf(views[t].ids for t in sorted({r["reference"] for r in rows}))
    cosine: list[tuple[HumanScore, float]] = []
    recall: list[tuple[HumanScore, float]] = []
    for r in rows:
        answer, reference = views[r["answer"]], views[r["reference"]]
        human = humans[r["id"]]
        cos = float(answer.sentence @ reference.sentence) if len(answer.ids) else 0.0
        cosine.append((human, 10 * max(0.0, cos)))
        aligned = align(
            reference,
            answer,
            idf,
            question_ids={int(i) for i in views[r["question"]].ids},
            question_weight=0.0,
            idf_power=1.0,
        )
        recall.append((human, 10 * rescale(aligned.recall, RECALL_FLOOR, 1.0)))
    return [
        agreement("baseline: e5 sentence cosine", cosine, scale=scale, settings=settings),
        agreement("baseline: token alignment recall", recall, scale=scale, settings=settings),
    ]
