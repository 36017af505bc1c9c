"""The evidence score's arithmetic on hand-made token vectors (no model): alignment,
IDF, question-token weights, the rescaling, confidence, several references."""

from __future__ import annotations

import numpy as np
import pytest

from coach.config import Settings
from coach.corpus.dedupe import merge_group
from coach.corpus.models import QuestionCard, SourceSpan
from coach.grading.confidence import confidence
from coach.grading.evidence import Idf, TokenView, align, rescale
from coach.grading.evidence_score import Evidence
from coach.grading.reference import ReferenceFinder, split_references


def view(ids: list[int], vectors: list[list[float]]) -> TokenView:
    v = np.array(vectors, dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return TokenView(
        text=" ".join(map(str, ids)),
        ids=np.array(ids),
        vectors=v,
        spans=[(i, i + 1) for i in range(len(ids))],
        sentence=v.mean(axis=0) / np.linalg.norm(v.mean(axis=0)),
    )


E1, E2, E3 = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]


def test_recall_is_the_weighted_mean_of_each_reference_tokens_best_match() -> None:
    reference = view([1, 2], [E1, E2])
    answer = view([7, 8], [E1, [0.0, 0.6, 0.8]])  # token 2 matched at cosine 0.6
    result = align(reference, answer, Idf(), question_ids=set(), question_weight=0.0, idf_power=1)
    assert result.recall == pytest.approx((1.0 + 0.6) / 2)
    assert list(result.best) == [0, 1]
    # precision: answer token 8's best match in the reference is token 2 (0.6)
    assert result.precision == pytest.approx((1.0 + 0.6) / 2)


def test_question_tokens_earn_nothing() -> None:
    reference = view([1, 2], [E1, E2])
    restating = view([1], [E1])  # says only what the question says
    result = align(reference, restating, Idf(), question_ids={1}, question_weight=0.0, idf_power=1)
    assert result.recall == pytest.approx(0.0)


def test_rare_tokens_weigh_more() -> None:
    idf = Idf([np.array([1, 2]), np.array([1, 3]), np.array([1])])
    weights = idf.weights(np.array([1, 2, 99]))
    assert weights[0] < weights[1] < weights[2]  # in every doc < in one < in none
    reference = view([1, 2], [E1, E2])
    answer = view([5], [E2])  # has only the rare token's meaning
    plain = align(reference, answer, Idf(), question_ids=set(), question_weight=0, idf_power=1)
    weighted = align(reference, answer, idf, question_ids=set(), question_weight=0, idf_power=2)
    assert weighted.recall > plain.recall


def test_rescale_maps_floor_to_zero_and_full_to_one_clipped() -> None:
    assert rescale(0.5, 0.5, 1.0) == 0.0
    assert rescale(0.75, 0.5, 1.0) == pytest.approx(0.5)
    assert rescale(0.95, 0.5, 0.9) == 1.0
    assert rescale(0.1, 0.5, 0.9) == 0.0


def test_confidence_is_high_when_signals_agree_at_one_end() -> None:
    clear = Evidence(score=0.95, reference=0.95, coverage=0.93)
    torn = Evidence(score=0.5, reference=0.8, coverage=0.2)
    assert confidence(clear, []) > 0.9
    assert confidence(torn, []) < 0.3
    assert confidence(clear, ["no_matching_card"]) == pytest.approx(confidence(clear, []) / 2)
    assert confidence(None, ["empty"]) == 1.0
    # the LLM disagreeing lowers it
    assert confidence(clear, [], llm_score=2.0) < confidence(clear, [], llm_score=9.0)


def test_several_references_in_one_cell() -> None:
    cell = "第一种说法：用正则化。\n---\n第二种说法：用 Dropout。\n"
    assert split_references(cell) == ["第一种说法：用正则化。", "第二种说法：用 Dropout。"]
    ref = ReferenceFinder(Settings()).from_text("q", cell)
    assert ref.texts == ["第一种说法：用正则化。", "第二种说法：用 Dropout。"]
    assert len(ref.key_points) == 2


def test_a_merged_card_keeps_each_sources_answer() -> None:
    def card(answer: str, line: int) -> QuestionCard:
        return QuestionCard(
            id=str(line),
            title="过拟合怎么办",
            question="过拟合怎么办？",
            answer=answer,
            sources=[SourceSpan(file="a.md", start_line=line, end_line=line)],
        )

    merged = merge_group([card("用正则化。", 1), card("用 Dropout。", 9)])
    assert merged.reference_texts() == ["用正则化。", "用 Dropout。"]
    assert card("只有一个。", 3).reference_texts() == ["只有一个。"]


def test_scorer_reads_the_expected_digit_from_the_first_tokens_logprobs() -> None:
    import math

    from langchain_core.messages import AIMessage

    from coach.grading.scorer import expected_score, first_token_alternatives

    reply = AIMessage(
        content="4",
        response_metadata={
            "logprobs": {
                "content": [
                    {
                        "token": "4",
                        "logprob": math.log(0.6),
                        "top_logprobs": [
                            {"token": "4", "logprob": math.log(0.6)},
                            {"token": "5", "logprob": math.log(0.2)},
                            {"token": "好", "logprob": math.log(0.1)},  # not a digit
                            {"token": "3", "logprob": math.log(0.1)},
                        ],
                    }
                ]
            }
        },
    )
    alternatives = first_token_alternatives(reply)
    assert expected_score(alternatives) == pytest.approx((4 * 0.6 + 5 * 0.2 + 3 * 0.1) / 0.9)
    # no log-probs (a fake model): the reply's own digit; none at all: no score
    assert expected_score(first_token_alternatives(AIMessage(content="3"))) == 3
    assert expected_score(first_token_alternatives(AIMessage(content="满分"))) is None
    assert expected_score([{"token": "9", "logprob": 0.0}]) is None  # off the 0-5 scale
