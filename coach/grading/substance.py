"""What an answer says that is on the question and specific, whatever the reference says.

Why: the reference is one good answer, not the whole truth. An interviewer credits an
answer that goes beyond the card with correct, specific content (named techniques,
mechanisms, conditions, numbers) and gives little to fluent talk that names nothing,
however long. The evidence score measures recall of the card, so it ranked expert
answers below recitals of the card (4.1 against 5.6). This finding measures the other
side, per sentence of the answer:

- **relevance**: how far the sentence stands out, in e5 contrast with unrelated
  background sentences, towards the question or the material retrieved for it (the
  card, its neighbours, article passages): a long answer about another topic earns
  nothing here;
- **specificity**: the distinct specific terms it uses that the question does not (an
  English term, a number, a rare Chinese word; restating the question earns nothing);
- **explained**: it says something about them (not a bare list of terms).

Each relevant, explained sentence adds its specific terms up to a cap; the sum becomes
``depth`` 0-1 with diminishing returns, so the fifth good sentence adds less than the
first and length alone, without specific content on the question, adds nothing.
"""

from __future__ import annotations

import math
import re
import tomllib
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from coach.common.text import cjk_count, content_chars
from coach.config import Settings
from coach.grading.segment import tagged_words
from coach.grading.semantic import SemanticMatcher

SPECIFICITY_FILE = Path(__file__).with_name("specificity.toml")
_ASCII_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-+.][A-Za-z0-9]+)*")
_NUMBER = re.compile(
    r"\d+(?:\.\d+)?(?:e-?\d+)?\s*(?:%|x|倍|[bmk]\b|亿|万|千|层|个|步|轮|epochs?)?", re.I
)
_CJK_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$")
_COMPOUND_HEAD = frozenset({"b", "n", "vn", "nz", "nr", "ns"})
_COMPOUND_TAIL = frozenset({"n", "v", "vn", "nz"})


class SentenceSubstance(BaseModel):
    text: str
    relevance: float
    """e5 contrast (z) of the sentence towards the question and its material."""
    to_question: float = 0.0
    """The same towards the question alone."""
    terms: list[str] = Field(default_factory=list)
    """Specific terms the sentence uses that the question does not."""
    explained: bool = False
    on_question: bool = False
    credit: float = 0.0


class Substance(BaseModel):
    depth: float = Field(ge=0, le=1)
    """On-topic, specific, explained content, 0-1 with diminishing returns."""
    relevant_share: float = Field(ge=0, le=1)
    """Share of the answer's content characters in sentences on the question."""
    specific_terms: int = 0
    """Distinct specific terms in relevant sentences."""
    sentences: list[SentenceSubstance] = Field(default_factory=list)

    def beyond(self, covered_sentences: set[str], limit: int = 3) -> list[str]:
        """The answer's best credited sentences that no key point matched: what it
        adds beyond the card."""
        ranked = sorted(
            (s for s in self.sentences if s.credit > 0 and s.text not in covered_sentences),
            key=lambda s: -s.credit,
        )
        return [s.text for s in ranked[:limit]]


@lru_cache(maxsize=1)
def _lexicon() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    data = tomllib.loads(SPECIFICITY_FILE.read_text("utf-8"))
    return (
        frozenset(data["generic_zh"]),
        frozenset(w.lower() for w in data["generic_en"]),
        frozenset(data["excluded_pos"]),
    )


@lru_cache(maxsize=65536)
def _zipf(word: str, language: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, language)


def rarest_term(terms: list[str], sentence: str) -> str:
    """The term a follow-up should ask about: a named thing, not a number, the rarest in
    general language (Optuna before batch size), as the sentence writes it (Llama, not
    llama). Empty when only numbers are left."""
    named = [t for t in terms if not _NUMBER.fullmatch(t)]
    if not named:
        return ""
    best = min(named, key=lambda t: (_zipf(t, "en" if t.isascii() else "zh"), -len(t)))
    found = re.search(re.escape(best), sentence, re.IGNORECASE)
    return found.group() if found else best


def specific_terms(text: str, settings: Settings, protected: tuple[str, ...] = ()) -> set[str]:
    """Numbers with their units, words rare in general language, and English compounds
    (warm-up, bf16, gpt-4: their parts are common words, the whole is a term).
    ``protected``: the card's own terms, read as one word each (segment.py)."""
    g = settings.grading
    generic_zh, generic_en, excluded_pos = _lexicon()
    terms: set[str] = set()
    for match in _ASCII_TERM.finditer(text):
        word = match.group().lower()
        compound = any(c in word for c in "-+.") or any(c.isdigit() for c in word)
        if (
            len(word) >= 2
            and word not in generic_en
            and (compound or _zipf(word, "en") <= g.specific_max_zipf_en)
        ):
            terms.add(word)
    for match in _NUMBER.finditer(text):
        number = match.group().strip().lower()
        if number and (not number.isdigit() or len(number) > 1):  # not a lone digit
            terms.add(number)
    words = list(tagged_words(text, protected))
    for word, tag in words:
        if (
            _CJK_WORD.match(word)
            and tag not in excluded_pos
            and word not in generic_zh
            and _zipf(word, "zh") <= g.specific_max_zipf_zh
        ):
            terms.add(word)
    # A term jieba's dictionary splits into two common words (主动 + 学习, 混合 + 精度):
    # the pair is a term when it is rare as a whole and neither part is generic.
    for (a, tag_a), (b, tag_b) in zip(words, words[1:], strict=False):
        if (
            tag_a in _COMPOUND_HEAD
            and tag_b in _COMPOUND_TAIL
            and _CJK_WORD.match(a)
            and _CJK_WORD.match(b)
            and not {a, b} & (generic_zh | terms)
            and _zipf(a + b, "zh") <= g.specific_max_zipf_zh
        ):
            terms.add(a + b)
    return terms


_LATIN_WORD = re.compile(r"[A-Za-z0-9]+")


def _units(text: str) -> float:
    """Length in Chinese characters, an English word counting as 1.5 (about the
    characters the same content takes in Chinese), for the term density."""
    return cjk_count(text) + 1.5 * len(_LATIN_WORD.findall(text))


class SubstanceMeter:
    """One per rubric: shares the rubric's e5 matcher (and its caches)."""

    def __init__(self, settings: Settings, semantic: SemanticMatcher) -> None:
        self.settings = settings
        self.semantic = semantic

    def measure(
        self,
        question: str,
        sentences: list[str],
        material: list[str],
        vectors: np.ndarray | None = None,
        domain: str = "",
        wrong: list[str] | None = None,
        card: str = "",
        labels: tuple[str, ...] = (),
    ) -> Substance:
        """``sentences``: the answer's; ``material``: the texts the question is answered
        from (card references, key points, retrieved passages); ``vectors``: the
        sentences' e5 vectors when the caller has them; ``domain``: the user's material
        as one text (the IDF pool): a Chinese word found there is a term of the field,
        one that is not (保驾护航, 方法论) counts ``substance_outside_weight``;
        ``wrong``: pieces of the answer that contradict a key point: a sentence holding
        one earns nothing (a negated reference is specific, and wrong); ``card``: the
        card's own reference text: a term taken from it counts ``substance_card_weight``
        (reciting the card's list is knowledge, going beyond it is more); ``labels``: the
        card's key-point labels, each read as one term."""
        g = self.settings.grading
        if not sentences:
            return Substance(depth=0.0, relevant_share=0.0)
        targets = [question, *[m for m in material if m.strip()]]
        z = self.semantic.contrast(sentences, targets, vectors)
        relevance = z.max(axis=1)
        asked = specific_terms(question, self.settings, labels)
        seen: set[str] = set()
        out: list[SentenceSubstance] = []
        total = relevant = 0
        credit_sum = 0.0
        for sentence, rel, z_question in zip(sentences, relevance, z[:, 0], strict=True):
            chars = content_chars(sentence)
            total += chars
            terms = sorted(specific_terms(sentence, self.settings, labels) - asked)
            term_chars = sum(content_chars(t) for t in terms)
            explained = chars - term_chars >= g.substance_explained_chars
            on_topic = float(rel) >= g.substance_relevance_z
            credit = 0.0
            if on_topic and not any(w in sentence or sentence in w for w in wrong or []):
                relevant += chars
                fresh = [t for t in terms if t not in seen]
                seen.update(terms)
                weight = 1.0 if explained else g.substance_bare_weight
                value = sum(
                    1.0 if t.isascii() or t in domain else g.substance_outside_weight for t in fresh
                )
                dense = min(1.0, len(terms) / max(1.0, _units(sentence)) / g.substance_density)
                credit = weight * dense * min(value, g.substance_terms_per_sentence)
                credit_sum += credit
            out.append(
                SentenceSubstance(
                    text=sentence,
                    relevance=round(float(rel), 3),
                    to_question=round(float(z_question), 3),
                    terms=terms,
                    explained=explained,
                    on_question=on_topic,
                    credit=round(credit, 3),
                )
            )
        depth = 1.0 - math.exp(-credit_sum / g.substance_scale)
        return Substance(
            depth=round(depth, 4),
            relevant_share=round(relevant / total, 4) if total else 0.0,
            specific_terms=len(seen),
            sentences=out,
        )

    def off_question(
        self, answer: str, profile: str, rivals: list[str], margin: float = 0.0
    ) -> bool:
        """Whether at least ``off_question_rank`` other cards of the bank are closer to
        the whole answer than the asked card is (cards nearly the same as the asked one
        do not count). Why relative: an answer about another topic of the same field is
        close to the question in absolute terms (every sentence here is about LLMs);
        what gives it away is that other questions of the bank fit it better; ``margin``:
        by how much a rival must be closer to count."""
        g = self.settings.grading
        vectors = self.semantic.encode([profile, *rivals])
        answer_vector = self.semantic.encode([answer], cache=False)[0]
        own, others = vectors[0], vectors[1:]
        distinct = others @ own < g.rival_same_card
        similarity = float(own @ answer_vector)
        if similarity >= g.off_question_close_own:  # close to the asked card itself:
            margin = max(margin, g.off_question_margin)  # rivals must be clearly closer
        closer = (others @ answer_vector) > similarity + margin
        return int(np.sum(closer & distinct)) >= g.off_question_rank
