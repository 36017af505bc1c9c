"""The evidence score of one answer: best reference, soft key-point coverage, evidence.

Why a per-target floor and not one threshold: how much unrelated text already "aligns"
with a reference depends on the reference (its length, its language, how generic its
words are). Each target (reference or key point) is therefore aligned once with the
fixed unrelated sentences of background.txt; their mean is the target's floor (0), and
closing ``grading_evidence_full_share`` of the gap between the floor and a verbatim copy
earns full credit. No other candidate's answer is used, so an interview grades the same
way as a batch, and the same answer always gets the same score.
"""

from __future__ import annotations

import threading
from functools import cached_property

import numpy as np
from pydantic import BaseModel, Field

from coach.config import Settings
from coach.corpus.keypoints import split_sentences
from coach.corpus.models import KeyPoint
from coach.grading.anchors import LEVELS, Anchors, calibrate
from coach.grading.evidence import Idf, TokenEncoder, TokenView, align, rescale
from coach.grading.semantic import background_sentences


class PointEvidence(BaseModel):
    coverage: float = Field(ge=0, le=1)
    """How fully the answer makes the point, 0-1 (soft, not a step)."""
    sentence: str = ""
    """The answer's sentence that carries most of the point's matched tokens."""


class Evidence(BaseModel):
    """What the evidence score saw; ``score`` is 0-1 before caps and penalties."""

    score: float = Field(ge=0, le=1)
    reference: float = Field(ge=0, le=1)
    """Agreement with the best-matching reference, 0-1."""
    reference_index: int = 0
    coverage: float | None = None
    """Soft key-point coverage, 0-1 (None without key points)."""
    recall: float = 0.0
    precision: float = 0.0
    sentence_cosine: float = 0.0
    """e5 sentence cosine of the answer and the best reference (for the record)."""
    points: list[PointEvidence] = Field(default_factory=list)
    anchor: str | None = None
    """The card's anchor answer (full / partial / wrong) this answer is closest to, by
    e5 sentence cosine; None when the card has no anchors."""
    anchor_value: float | None = None
    """The 0-1 score that anchor stands for (full 1, partial and wrong their targets)."""
    calibrated: bool = False
    """``score`` was remapped through the card's anchors (grading_anchor_calibration)."""


class EvidenceScorer:
    """One per grader: holds the token encoder, the IDF pool and the per-target floors."""

    def __init__(self, settings: Settings, pool: list[str] | None = None) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._floors: dict[str, float] = {}
        self._pool_texts: list[str] = list(pool or [])
        self._idf: Idf | None = None
        self._anchor_scores: dict[tuple[str, str], tuple[float, float]] = {}
        self._domain: tuple[int, str] | None = None

    @cached_property
    def encoder(self) -> TokenEncoder:
        from coach.index.embeddings import get_embedder

        return TokenEncoder(self.settings, get_embedder(self.settings))

    @cached_property
    def background(self) -> list[TokenView]:
        return self.encoder.views(background_sentences())

    # --- the IDF pool ---------------------------------------------------------------
    def add_to_pool(self, texts: list[str]) -> None:
        """Reference texts the IDF counts (a batch adds its references before grading,
        so every row sees the same weights whatever order the rows finish in)."""
        with self._lock:
            known = set(self._pool_texts)
            new = [t for t in dict.fromkeys(texts) if t and t not in known]
            if new:
                self._pool_texts += new
                self._idf = None
                self._floors.clear()

    def domain_text(self, extra: list[str]) -> str:
        """The pool's texts and ``extra`` as one lower-cased text, for "is this word
        used in the user's material" (grading/substance.py); the pool part is kept."""
        with self._lock:
            if self._domain is None or self._domain[0] != len(self._pool_texts):
                self._domain = (len(self._pool_texts), "\n".join(self._pool_texts).lower())
            pooled = self._domain[1]
        return pooled + "\n" + "\n".join(extra).lower() if extra else pooled

    @property
    def idf(self) -> Idf:
        with self._lock:
            if self._idf is None:
                self._idf = Idf(self.encoder.token_ids(self._pool_texts))
            return self._idf

    # --- scoring --------------------------------------------------------------------
    def _align(self, target: TokenView, answer: TokenView, question: TokenView):  # noqa: ANN202
        s = self.settings
        return align(
            target,
            answer,
            self.idf,
            question_ids={int(i) for i in question.ids},
            question_weight=s.grading.question_token_weight,
            idf_power=s.grading.idf_power,
        )

    def _raw(self, target: TokenView, answer: TokenView, question: TokenView, *, both: bool):
        a = self._align(target, answer, question)
        return a, (a.blend(self.settings.grading.precision_weight) if both else a.recall)

    def floor(self, target: TokenView, question: TokenView, *, both: bool) -> float:
        """Mean raw alignment of ``target`` with each unrelated background sentence."""
        key = f"{both}\x00{question.text}\x00{target.text}"
        if key not in self._floors:
            values = [self._raw(target, b, question, both=both)[1] for b in self.background]
            self._floors[key] = float(np.mean(values))
        return self._floors[key]

    def _mapped(
        self, target: TokenView, answer: TokenView, question: TokenView, *, both: bool
    ) -> tuple[float, object]:
        alignment, raw = self._raw(target, answer, question, both=both)
        floor = self.floor(target, question, both=both)
        full = floor + self.settings.grading.evidence_full_share * (1.0 - floor)
        return rescale(raw, floor, full), alignment

    def score(
        self,
        question: str,
        answer: str,
        references: list[str],
        points: list[KeyPoint],
        expected: int,
        support: list[float] | None = None,
        skip: list[tuple[int, int]] | None = None,
    ) -> Evidence:
        """``expected``: how many key points a complete answer makes (the rest of the
        points are extra credit nobody needs). ``support``: per point, another soft
        coverage (the rubric's sentence-level match where the answer is in the other
        language); a point counts with the larger of the two."""
        s = self.settings
        targets = [r for r in references if r.strip()]
        point_texts = [p.text() for p in points]
        views = self.encoder.views([question, *targets, *point_texts])
        q_view, ref_views, point_views = (
            views[0],
            views[1 : 1 + len(targets)],
            views[1 + len(targets) :],
        )
        a_view = _without(self.encoder.views([answer], cache=False)[0], skip or [])
        best, best_index, best_alignment = 0.0, 0, None
        for k, view in enumerate(ref_views):
            value, alignment = self._mapped(view, a_view, q_view, both=True)
            if best_alignment is None or value > best:
                best, best_index, best_alignment = value, k, alignment
        sentences = _sentence_ranges(answer)
        point_results: list[PointEvidence] = []
        for j, view in enumerate(point_views):
            value, alignment = self._mapped(view, a_view, q_view, both=False)
            if support is not None:
                value = max(value, float(np.clip(support[j], 0, 1)))
            point_results.append(
                PointEvidence(
                    coverage=round(value, 4),
                    sentence=_evidence_sentence(alignment, a_view, sentences) if value else "",
                )
            )
        coverage = None
        score = best
        if point_results:
            ranked = sorted((p.coverage for p in point_results), reverse=True)
            coverage = float(np.mean(ranked[: max(1, expected)]))
            score = (1 - s.grading.weight_points) * best + s.grading.weight_points * coverage
            if not ref_views:
                score = coverage
        cosine = float(a_view.sentence @ ref_views[best_index].sentence) if ref_views else 0.0
        return Evidence(
            score=round(float(np.clip(score, 0, 1)), 4),
            reference=round(best, 4),
            reference_index=best_index,
            coverage=None if coverage is None else round(coverage, 4),
            recall=round(best_alignment.recall, 4) if best_alignment else 0.0,
            precision=round(best_alignment.precision, 4) if best_alignment else 0.0,
            sentence_cosine=round(cosine, 4),
            points=point_results,
        )

    def anchored(
        self,
        evidence: Evidence,
        question: str,
        answer: str,
        references: list[str],
        points: list[KeyPoint],
        expected: int,
        anchors: Anchors,
    ) -> Evidence:
        """``evidence`` with the nearest anchor recorded and, when calibration is on,
        the score remapped so the card's wrong and partial anchors land on their
        targets (their own evidence scores are computed once per card)."""
        s = self.settings
        views = self.encoder.views([anchors.text(level) for level in LEVELS])
        answer_vector = self.encoder.views([answer], cache=False)[0].sentence
        cosines = [float(v.sentence @ answer_vector) for v in views]
        nearest = LEVELS[int(np.argmax(cosines))]
        values = {
            "full": 1.0,
            "partial": s.grading.anchor_target_partial,
            "wrong": s.grading.anchor_target_wrong,
        }
        update: dict[str, object] = {"anchor": nearest, "anchor_value": values[nearest]}
        if s.grading.anchor_calibration:
            key = (anchors.card_id, anchors.card_hash)
            if key not in self._anchor_scores:
                wrong, partial = (
                    self.score(question, anchors.text(level), references, points, expected).score
                    for level in ("wrong", "partial")
                )
                self._anchor_scores[key] = (wrong, partial)
            wrong, partial = self._anchor_scores[key]
            value = calibrate(evidence.score, wrong, partial, s)
            if value is not None:
                update |= {"score": round(float(np.clip(value, 0, 1)), 4), "calibrated": True}
        return evidence.model_copy(update=update)


def _without(view: TokenView, skip: list[tuple[int, int]]) -> TokenView:
    """``view`` without the tokens inside the ``skip`` character ranges (the sentence
    vector is kept: it is the answer's as a whole)."""
    if not skip:
        return view
    keep = [
        i for i, (start, _) in enumerate(view.spans) if not any(a <= start < b for a, b in skip)
    ]
    if not keep:
        return view
    return TokenView(
        text=view.text,
        ids=view.ids[keep],
        vectors=view.vectors[keep],
        spans=[view.spans[i] for i in keep],
        sentence=view.sentence,
    )


def _sentence_ranges(text: str) -> list[tuple[int, int, str]]:
    ranges: list[tuple[int, int, str]] = []
    cursor = 0
    for sentence in split_sentences(text):
        start = text.find(sentence, cursor)
        if start < 0:
            continue
        ranges.append((start, start + len(sentence), sentence))
        cursor = start + len(sentence)
    return ranges


def _evidence_sentence(alignment, answer: TokenView, sentences) -> str:  # noqa: ANN001
    """The sentence holding the answer tokens the point's tokens lean on most."""
    if not sentences or not len(alignment.best):
        return ""
    mass = np.zeros(len(sentences))
    for token, weight, sim in zip(alignment.best, alignment.weights, alignment.top, strict=True):
        start = answer.spans[int(token)][0]
        for k, (lo, hi, _) in enumerate(sentences):
            if lo <= start < hi:
                mass[k] += weight * sim
                break
    return sentences[int(mass.argmax())][2] if mass.any() else ""
