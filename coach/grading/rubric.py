"""The rubric: grade an answer against key points with evidence a program can check.

Per key point, every sentence and clause of the answer is matched lexically (the point's
name or English alias, its explanation's words) and semantically (e5 contrast, see
semantic.py); the best match is the evidence, checked for polarity (polarity.py). Then
whole-answer checks: empty, off-topic, keyword stuffing (names without explanation),
instructions to the grader (injection.py). No LLM: it runs at scale and when the model
server is down, and it is what the LLM's claims are checked against.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, Field

from coach.common.text import content_chars
from coach.config import Settings
from coach.corpus.keypoints import clean_inline, split_sentences
from coach.corpus.models import KeyPoint
from coach.grading import formula
from coach.grading.evidence_score import Evidence, EvidenceScorer
from coach.grading.explain import explain, messages, says_dont_know
from coach.grading.flags import GradeFlag
from coach.grading.injection import injection_spans
from coach.grading.models import (
    COVERAGE_CREDIT,
    Coverage,
    PointResult,
    ReferenceUsed,
    Takeaway,
)
from coach.grading.noise import without_noise
from coach.grading.polarity import content_terms, contradiction, lexicon
from coach.grading.reference import Reference
from coach.grading.semantic import SemanticMatcher
from coach.grading.substance import Substance, SubstanceMeter

_LIST_MARK = re.compile(r"^\s*(?:\d+[.、)]|[-*+•])\s*")
_CLAUSE_END = re.compile(r"(?<=[，；：;:])")


def _squash(text: str) -> str:
    return re.sub(r"[\s\-_]+", "", text.lower())


def segment(text: str, min_chars: int) -> tuple[list[str], list[str]]:
    """(sentences, units): units are the sentences plus their clauses, so a point made
    in half a sentence is matched (and polarity-checked) on that half alone."""
    sentences: list[str] = []
    for line in text.splitlines():
        line = clean_inline(_LIST_MARK.sub("", line))
        sentences.extend(s for s in split_sentences(line) if content_chars(s))
    units = list(sentences)
    for sentence in sentences:
        clauses: list[str] = []
        for piece in _CLAUSE_END.split(sentence):
            if clauses and content_chars(piece) < min_chars:
                clauses[-1] += piece
            elif piece.strip():
                clauses.append(piece.strip())
        if len(clauses) > 1:
            units.extend(c for c in clauses if content_chars(c) >= min_chars)
    return sentences, list(dict.fromkeys(units))


class RubricResult(BaseModel):
    """Everything the rubric found; ``combine`` turns it (and a verdict) into a Grade."""

    points: list[PointResult]
    groups: list[int] = Field(default_factory=list)
    """Group index of each point: repeated points of merged cards share one."""
    score: float
    base: float = 0.0
    """The score before the guards' caps and the LLM (grading/formula.py, steps 1-2)."""
    content: float = 0.0
    """Step 1 of the formula, 0-1: bounds how far the LLM may lift the score."""
    ceiling: float = 10.0
    """Most the answer may score whatever the LLM says (off-topic, injection ...)."""
    correctness_factor: float = 1.0
    wrong_share: float = 0.0
    """Share of the points spoken about that the answer contradicts (two or more)."""
    flags: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    feedback: str = ""
    follow_up: str = ""
    gaps: list[str] = Field(default_factory=list)
    """Points worth a follow-up, most valuable first (grading/explain.py)."""
    takeaway: Takeaway = Field(default_factory=Takeaway)
    reference: ReferenceUsed
    key_points: list[KeyPoint] = Field(default_factory=list)
    graded_text: str = ""
    """The answer without the pieces that address the grader."""
    injection_spans: list[str] = Field(default_factory=list)
    evidence: Evidence | None = None
    """The evidence score's findings (None for an empty answer)."""
    substance: Substance | None = None
    """On-topic, specific content, whatever the reference says (None when empty)."""


@dataclass(frozen=True)
class Cleaned:
    text: str
    injection_spans: list[str]
    noise_chars: int
    unread_chars: int


@dataclass
class _Match:
    strength: float = 0.0
    unit: str = ""
    z: float = 0.0
    contradicted: str | None = None
    bare: bool = False
    explanation_chars: int = 0
    names: list[str] = field(default_factory=list)


class Rubric:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.semantic = SemanticMatcher(settings)
        self.evidence = EvidenceScorer(settings)
        self.substance = SubstanceMeter(settings, self.semantic)
        # One grade at a time: torch already spreads each forward pass over every core,
        # so concurrent grades (a batch runs four in threads, for the LLM's sake) only
        # fought over the cores and the GIL: 12.3 answers/s at four, 15.4 at one.
        self._one_at_a_time = threading.Lock()

    # --- public ---------------------------------------------------------------------
    def cleaned(self, answer: str) -> Cleaned:
        """What is graded of ``answer``: at most ``answer_read_chars`` of it, without
        the sentences that address the grader and without noise."""
        limit = self.settings.grading.answer_read_chars
        read = answer[:limit]
        spans = injection_spans(read)
        text = self._without(read, spans) if spans else read
        text, noise = without_noise(text, self.settings)
        return Cleaned(
            # stripped: noise cut from the end left its line break behind, and the LLM,
            # which reads this text, scored "answer\n " 0.4 above "answer"
            text=text.strip(),
            injection_spans=spans,
            noise_chars=sum(len(n) for n in noise),
            unread_chars=max(0, len(answer) - limit),
        )

    def prefetch(
        self, answers: list[str], references: Sequence[tuple[str, Reference]] = ()
    ) -> None:
        """Encode many answers (and their sentences) per forward pass before grading
        them one by one; see ``SemanticMatcher.prefetch``. ``references``: the asked
        question and reference of each row, whose texts are cached the same way."""
        texts = [self.cleaned(a).text for a in answers]
        min_chars = self.settings.grading.clause_min_chars
        self.semantic.prefetch([u for t in texts for u in segment(t, min_chars)[1]])
        self.evidence.encoder.prefetch(texts)
        if references:
            self.warm(references)

    def warm(self, references: Sequence[tuple[str, Reference]]) -> None:
        """Encode, in full batches, every reference-side text ``grade`` will ask for
        (question, key points and their labels, reference answers); they are cached, so
        the rows then find them instead of running one small forward pass each. Measured
        on LE: that per-row encoding was about 60% of the no-LLM time."""
        sentences: list[str] = []
        views: list[str] = []
        for question, ref in references:
            texts = [p.text() for p in ref.key_points]
            sentences += [question, *texts, *(p.label for p in ref.key_points)]
            sentences += [t for t in (*ref.texts, *ref.material) if t.strip()]  # substance
            views += [question, *(t for t in ref.texts if t.strip()), *texts]
        self.semantic.encode(sentences)
        self.evidence.encoder.views(views)
        _ = self.semantic.background, self.evidence.background  # once per process

    def clear_prefetched(self) -> None:
        self.semantic.clear_prefetched()
        self.evidence.encoder.clear_prefetched()

    def grade(self, question: str, answer: str, ref: Reference) -> RubricResult:
        with self._one_at_a_time:
            return self._grade(question, answer, ref)

    def _grade(self, question: str, answer: str, ref: Reference) -> RubricResult:
        s = self.settings
        flags = list(ref.flags)
        notes = list(ref.notes)
        cleaned = self.cleaned(answer)
        text, spans = cleaned.text, cleaned.injection_spans
        if spans:
            flags.append(GradeFlag.INJECTION)
        if cleaned.noise_chars:
            flags.append(GradeFlag.NOISE)
            notes.append(messages()["noise"].format(chars=cleaned.noise_chars))
        if cleaned.unread_chars:
            flags.append(GradeFlag.TRUNCATED)
            notes.append(
                messages()["truncated"].format(read=s.grading.answer_read_chars, total=len(answer))
            )
        sentences, units = segment(text, s.grading.clause_min_chars)
        points = ref.key_points
        groups = self._groups(points)
        if says_dont_know(text, s.grading.dont_know_max_chars) and not spans:
            flags.append(GradeFlag.DONT_KNOW)
        if content_chars(text) < s.grading.min_answer_chars and not spans:
            flags.append(GradeFlag.EMPTY)
        if GradeFlag.EMPTY in flags or GradeFlag.DONT_KNOW in flags or not units or not points:
            if not points:
                notes.append(messages()["no_points"])
            return self._result(
                ref,
                question,
                text,
                spans,
                flags,
                notes,
                points,
                groups,
                [_Match() for _ in points],
                sentences,
                None,
            )
        vectors = self.semantic.encode(units, cache=False)
        matches = self._match(question, units, points, vectors, sentences)
        position = {u: i for i, u in enumerate(units)}
        substance = self.substance.measure(
            question,
            sentences,
            [*ref.texts, *(p.text() for p in points), *ref.material],
            vectors[[position[x] for x in sentences]],
            domain=self.evidence.domain_text(ref.material),
            wrong=[m.unit for m in matches if m.contradicted],
            card="\n".join([*ref.texts, *(p.text() for p in points)]),
            labels=tuple(p.label for p in points),
        )
        on_question = [x.text for x in substance.sentences if x.on_question]
        evidence_text = "\n".join(on_question) if on_question else text
        # sentences off the question do not count against the answer's precision (a long
        # preamble before the reference); dropped from its one (prefetched) encoding
        off_spans = _spans(text, [x.text for x in substance.sentences if not x.on_question])
        if not on_question:
            off_spans = []
        # judged on what the answer says with substance (its credited sentences): a long
        # preamble would otherwise make the reference itself look like another card's
        core = "\n".join(x.text for x in substance.sentences if x.credit > 0) or evidence_text
        matched = [m for m in matches if m.strength >= s.grading.match_partial]
        margin = (
            s.grading.off_question_margin
            if len(matched) > s.grading.off_question_max_matched
            else 0.0
        )
        if (
            ref.rivals
            and content_chars(text) >= s.grading.off_question_min_chars
            and not cross_language(text, ref.question)
            and self.substance.off_question(core, ref.profile, ref.rivals, margin)
        ):
            flags.append(GradeFlag.OFF_TOPIC)
        best_z_question = float(self.semantic.contrast(units, [question], vectors).max())
        best_z_points = max((m.z for m in matches), default=0.0)
        # Off-topic only when no sentence is on the question's material either: a short
        # on-topic answer in other words than the card's ("主要是调学习率…") was flagged.
        if (
            not matched
            and max(best_z_question, best_z_points) < s.grading.off_topic_z
            and substance.relevant_share == 0
        ):
            flags.append(GradeFlag.OFF_TOPIC)
        bare = [m for m in matched if m.bare and not m.contradicted]
        if (
            len(matched) >= 2
            and len(bare) >= s.grading.stuffing_share * len(matched)
            and self._explanation_per_point(text, points) < s.grading.stuffing_chars_per_point
        ):
            flags.append(GradeFlag.KEYWORD_STUFFING)
        if any(m.contradicted for m in matches):
            flags.append(GradeFlag.CONTRADICTION)
        evidence = self.evidence.score(
            question,
            text,
            ref.texts,
            points,
            expected_points(len(set(groups)), s.grading.expected_share),
            support=[
                m.strength
                if (cross_language(text, p.text()) or m.strength >= s.grading.support_min_strength)
                and not (m.contradicted or m.bare)
                else 0.0
                for m, p in zip(matches, points, strict=True)
            ],
            skip=off_spans,
        )
        if ref.anchors is not None and s.grading.use_anchors:
            evidence = self.evidence.anchored(
                evidence,
                question,
                text,
                ref.texts,
                points,
                expected_points(len(set(groups)), s.grading.expected_share),
                ref.anchors,
            )
        return self._result(
            ref,
            question,
            text,
            spans,
            flags,
            notes,
            points,
            groups,
            matches,
            sentences,
            evidence,
            substance,
        )

    # --- matching -------------------------------------------------------------------
    def _match(
        self,
        question: str,
        units: list[str],
        points: list[KeyPoint],
        vectors: np.ndarray,
        sentences: list[str],
    ) -> list[_Match]:
        s = self.settings
        z = self.semantic.contrast(units, [p.text() for p in points], vectors)
        squashed = [_squash(u) for u in units]
        lowered = [u.lower() for u in units]
        all_names = [n for p in points for n in (p.label, p.alias) if n]
        results = []
        per_point: list[list[_Match]] = []
        for j, point in enumerate(points):
            names = [n for n in (point.label, point.alias) if n]
            terms = (
                content_terms(point.explanation)
                - {t for n in names for t in content_terms(n)}
                - lexicon().generic
            )
            candidates: list[_Match] = []
            for i, unit in enumerate(units):
                named = any(_squash(n) in squashed[i] for n in names)
                recall = sum(t in lowered[i] for t in terms) / len(terms) if terms else 0.0
                lexical = s.grading.lexical_label_strength * named + (
                    s.grading.lexical_term_weight * recall
                )
                semantic = self._semantic_strength(float(z[i, j]))
                candidates.append(
                    _Match(
                        strength=min(1.0, max(lexical, semantic)),
                        unit=unit,
                        z=float(z[i, j]),
                        names=names,
                    )
                )
            per_point.append(candidates)
        # A unit that says something wrong about any point earns credit for none.
        tainted: set[int] = set()
        for point, candidates in zip(points, per_point, strict=True):
            for i, c in enumerate(candidates):
                if c.strength >= s.grading.match_partial:
                    context = next((x for x in sentences if c.unit in x), c.unit)
                    c.contradicted = contradiction(c.unit, c.names, point.text(), context)
                    if c.contradicted:
                        tainted.add(i)
        for candidates in per_point:
            for i in tainted:
                if not candidates[i].contradicted:
                    candidates[i].strength = 0.0
        results = [
            self._evidence(sorted(c, key=lambda m: -m.strength), point, all_names)
            for point, c in zip(points, per_point, strict=True)
        ]
        return self._one_unit_one_point(results, points)

    @staticmethod
    def _explanation_per_point(text: str, points: list[KeyPoint]) -> float:
        """Content characters of the answer besides the points' names, per name it uses:
        a bare list has almost none, a recital that explains every item has tens (three
        such recitals were flagged as stuffing when each sentence was judged alone)."""
        rest = text.lower()
        named = 0
        for name in sorted({n for p in points for n in (p.label, p.alias) if n}, key=len)[::-1]:
            if name.lower() in rest:
                named += 1
                rest = rest.replace(name.lower(), "")
        return content_chars(rest) / max(1, named)

    def _one_unit_one_point(self, results: list[_Match], points: list[KeyPoint]) -> list[_Match]:
        """A sentence (or a clause of it) that does not name a point counts for at most
        one point: an answer's one generic sentence ("模型变小了") would otherwise cover
        every point that says the same thing in other words."""
        s = self.settings
        used: set[str] = set()
        order = sorted(range(len(results)), key=lambda j: -results[j].strength)
        for j in order:
            m = results[j]
            if m.contradicted or m.strength < s.grading.match_partial:
                continue
            named = any(_squash(n) in _squash(m.unit) for n in m.names)
            if not named and any(m.unit in u or u in m.unit for u in used):
                m.strength = min(m.strength, s.grading.match_partial - 1e-6)
                continue
            used.add(m.unit)
        return results

    def _semantic_strength(self, z: float) -> float:
        """Map the contrast z linearly so that z_partial and z_covered land on the
        partial and covered match thresholds."""
        s = self.settings
        slope = (s.grading.match_covered - s.grading.match_partial) / (
            s.grading.z_covered - s.grading.z_partial
        )
        return float(np.clip(s.grading.match_partial + (z - s.grading.z_partial) * slope, 0, 1))

    def _evidence(self, candidates: list[_Match], point: KeyPoint, all_names: list[str]) -> _Match:
        """The best non-contradicting candidate; the point is contradicted when the
        strongest candidate contradicts it and nothing else covers it."""
        s = self.settings
        strong = [c for c in candidates if c.strength >= s.grading.match_partial or c.contradicted]
        if not strong:
            return candidates[0] if candidates else _Match()
        clean = [c for c in strong if not c.contradicted]
        best = strong[0]
        if best.contradicted and not any(
            c.strength >= max(s.grading.match_covered, best.strength) for c in clean
        ):
            return best
        if not clean:
            return best
        chosen = clean[0]
        rest = chosen.unit.lower()
        for name in sorted(all_names, key=len, reverse=True):
            rest = rest.replace(name.lower(), "")
        chosen.explanation_chars = content_chars(rest)
        # Bare only against a point that explains itself: when the reference is a list
        # of names, an answer that lists them says all the reference says.
        chosen.bare = (
            chosen.explanation_chars < s.grading.bare_mention_chars
            and content_chars(point.explanation) >= s.grading.bare_mention_chars
        )
        return chosen

    def _point(self, point: KeyPoint, m: _Match, coverage: float, sentence: str) -> PointResult:
        """The rubric's status, raised by the soft coverage (a point said in other words
        than the rubric's names and terms); a contradicted point stays missed."""
        s = self.settings
        status = self._status(m)
        if not m.contradicted and not m.bare:
            if coverage >= s.grading.point_covered and status != "covered":
                status = "covered"
            elif coverage >= s.grading.point_partial and status == "missed":
                status = "partial"
        evidence = m.unit if (self._status(m) != "missed" or m.contradicted) else ""
        if status != "missed" and not evidence:
            evidence = sentence
        return PointResult(
            label=point.label,
            explanation=point.explanation,
            status=status,
            evidence=evidence,
            similarity=round(m.strength, 3),
            coverage=round(coverage, 3),
            contradicted=bool(m.contradicted),
        )

    def _status(self, m: _Match) -> Coverage:
        s = self.settings
        if m.contradicted or m.strength < s.grading.match_partial:
            return "missed"
        if m.bare or m.strength < s.grading.match_covered:
            return "partial"
        return "covered"

    def _groups(self, points: list[KeyPoint]) -> list[int]:
        """Union of points that share an alias or whose labels embed almost alike."""
        parent = list(range(len(points)))

        def root(i: int) -> int:
            while parent[i] != i:
                i = parent[i]
            return i

        if len(points) > 1:
            labels = self.semantic.encode([p.label for p in points])
            sims = labels @ labels.T
            for i in range(len(points)):
                for j in range(i + 1, len(points)):
                    same_alias = (
                        points[i].alias
                        and points[j].alias
                        and _squash(points[i].alias) == _squash(points[j].alias)
                    )
                    if same_alias or sims[i, j] >= self.settings.grading.point_group_sim:
                        parent[root(j)] = root(i)
        return [root(i) for i in range(len(points))]

    # --- scoring --------------------------------------------------------------------
    def _result(
        self,
        ref: Reference,
        question: str,
        text: str,
        spans: list[str],
        flags: list[str],
        notes: list[str],
        points: list[KeyPoint],
        groups: list[int],
        matches: list[_Match],
        sentences: list[str],
        evidence: Evidence | None,
        substance: Substance | None = None,
    ) -> RubricResult:
        s = self.settings
        soft = evidence.points if evidence else []
        results = [
            self._point(p, m, soft[j].coverage if soft else 0.0, soft[j].sentence if soft else "")
            for j, (p, m) in enumerate(zip(points, matches, strict=True))
        ]
        credit: dict[int, float] = {}
        contradicted_groups: set[int] = set()
        for g, r in zip(groups, results, strict=True):
            credit[g] = max(credit.get(g, 0.0), COVERAGE_CREDIT[r.status])
            if r.contradicted:
                contradicted_groups.add(g)
        supported = sum(1 for g, c in credit.items() if c > 0)
        contradicted_groups -= {g for g, c in credit.items() if c > 0}
        wrong = len(contradicted_groups)
        factor = 1.0 - s.grading.contradiction_penalty * wrong / max(1, supported + wrong)
        found = formula.content(
            evidence.score if evidence else 0.0, substance.depth if substance else 0.0, s
        )
        base = formula.curve(found * factor, s)
        wrong_share = wrong / (supported + wrong) if wrong >= 2 else 0.0
        score = formula.final_score(base, found, factor, flags, s, wrong_share=wrong_share)
        ceiling = formula.ceiling(flags, s, wrong_share)
        words = explain(
            question=ref.question or question,
            answer=text,
            source=", ".join(ref.used.sources[:1]) or ref.used.title,
            flags=flags,
            injection=spans,
            points=results,
            groups=groups,
            substance=substance,
            settings=s,
        )
        return RubricResult(
            points=results,
            groups=groups,
            score=score,
            base=round(base, 4),
            content=round(found, 4),
            ceiling=ceiling,
            correctness_factor=factor,
            wrong_share=wrong_share,
            flags=list(dict.fromkeys(flags)),
            notes=notes,
            feedback=words.feedback,
            follow_up=words.follow_up,
            gaps=words.gaps,
            takeaway=words.takeaway,
            reference=ref.used,
            key_points=points,
            graded_text=text,
            injection_spans=spans,
            evidence=evidence,
            substance=substance,
        )

    @staticmethod
    def _without(answer: str, spans: list[str]) -> str:
        """The answer minus every sentence that holds an instruction to the grader."""
        kept = []
        flat_spans = [" ".join(x.split()).lower() for x in spans]
        for line in answer.splitlines():
            pieces = split_sentences(line) or [line]
            kept.append(
                "".join(
                    p
                    for p in pieces
                    if not any(sp in " ".join(p.split()).lower() for sp in flat_spans)
                )
            )
        text = "\n".join(kept)
        for span in spans:  # a span that crosses a sentence boundary
            text = text.replace(span, "")
        return text


_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")


def cross_language(answer: str, point: str) -> bool:
    """One text mostly Chinese and the other not. Why it matters: e5's token vectors
    align poorly across languages, its sentence vectors (the rubric's match) much
    better, so a point answered in the other language counts with the rubric's match."""

    def chinese(text: str) -> bool:
        return len(_CJK_CHAR.findall(text)) >= 0.3 * max(1, content_chars(text))

    return chinese(answer) != chinese(point)


def _spans(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Character ranges of ``pieces`` in ``text``, found in order."""
    out: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        start = text.find(piece, cursor)
        if start < 0:
            start = text.find(piece)
        if start >= 0:
            out.append((start, start + len(piece)))
            cursor = start + len(piece)
    return out


def expected_points(n_groups: int, share: float) -> int:
    """How many (grouped) points a complete answer makes, rounding half up."""
    return max(1, min(n_groups, math.floor(n_groups * share + 0.5)))
