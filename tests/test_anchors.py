"""Anchor answers: the writer's format, the store (stale cards, a person's edits, a
broken file), the calibration arithmetic, the scorer prompt, the question-bank tab's
functions, and (slow, real e5) their part in a grade."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from typer.testing import CliRunner

from coach.common.files import write_text_atomic
from coach.config import Settings
from coach.corpus.catalog import Corpus
from coach.corpus.models import KeyPoint, QuestionCard, SourceSpan
from coach.grading.anchor_writer import AnchorWriter, anchor_messages, clean_anchor
from coach.grading.anchors import AnchorError, Anchors, AnchorStore, calibrate, card_hash
from coach.grading.models import ReferenceUsed
from coach.grading.reference import Reference

from .conftest import MODELS_DIR

FULL = (
    "可以用正则化、Dropout、数据增强和早停，它们分别限制模型复杂度、"
    "打破神经元依赖、增加数据多样性、及时停止训练。"
)
PARTIAL = "用 Dropout，训练时随机丢掉一些神经元。"
WRONG = "多训练几轮、把模型做大就不会过拟合了。"
REPLIES = [FULL, PARTIAL, WRONG]


def make_card(answer: str = "正则化、Dropout、数据增强、早停。") -> QuestionCard:
    return QuestionCard(
        id="c1",
        title="过拟合",
        question="如何处理大模型的过拟合问题？",
        answer=answer,
        references=[answer],
        key_points=[KeyPoint(label="正则化"), KeyPoint(label="Dropout")],
        sources=[SourceSpan(file="a.md", start_line=1, end_line=2)],
    )


def test_clean_anchor_flattens_markdown_and_cuts_at_a_sentence_end() -> None:
    assert (
        clean_anchor("* **正则化**：限制复杂度。\n- Dropout。", 100)
        == "正则化：限制复杂度。Dropout。"
    )
    assert clean_anchor("第一句。第二句很长很长。", 8) == "第一句。"
    assert clean_anchor("  \n ", 100) == ""


def test_each_level_is_asked_for_with_the_static_part_first() -> None:
    card = make_card()
    messages = [anchor_messages(card, level) for level in ("full", "partial", "wrong")]
    users = [str(m[-1].content) for m in messages]
    prefix = users[0][: users[0].index("请写：")]
    assert all(u.startswith(prefix) for u in users) and card.question in prefix
    assert len({u[len(prefix) :] for u in users}) == 3


def test_writer_retries_a_broken_reply_then_gives_up(settings: Settings) -> None:
    card = make_card()
    writer = AnchorWriter(settings, FakeListChatModel(responses=[FULL, " ", PARTIAL, WRONG]))
    anchors = writer.write(card)
    assert anchors.card_id == "c1" and anchors.card_hash == card_hash(card)
    assert (anchors.full, anchors.partial, anchors.wrong) == (FULL, PARTIAL, WRONG)
    broken = AnchorWriter(settings, FakeListChatModel(responses=[FULL, "", "  "]))
    with pytest.raises(AnchorError, match="partial"):
        broken.write(card)


def test_store_keys_anchors_to_the_card_and_keeps_edits(settings: Settings) -> None:
    card = make_card()
    store = AnchorStore(settings)
    assert store.get(card) is None and not store.is_stale(card)
    store.put(Anchors(card_id="c1", card_hash=card_hash(card), full="全", partial="半", wrong="错"))
    other = AnchorStore(settings)  # a second reader of the same file (UI vs grader)
    assert other.get(card).full == "全"
    changed = make_card(answer="只有正则化。")
    assert other.get(changed) is None and other.is_stale(changed)
    edited = store.edit(changed, " 全对 ", "半对", "错了")
    assert edited.model == "person" and edited.full == "全对"
    assert other.get(changed).partial == "半对"  # re-read after the file changed
    with pytest.raises(AnchorError, match="wrong"):
        store.edit(changed, "全", "半", "  ")


def test_broken_store_line_names_the_line(settings: Settings) -> None:
    store = AnchorStore(settings)
    write_text_atomic(store.path, '{"card_id": "c1"}\n')
    with pytest.raises(AnchorError, match=r"anchors.jsonl:1"):
        store.get(make_card())


def test_calibration_is_monotone_and_refuses_unordered_anchors(settings: Settings) -> None:
    values = [calibrate(x / 20, 0.2, 0.5, settings) for x in range(21)]
    assert values[0] == 0.0 and values[-1] == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(values, values[1:], strict=False))
    assert calibrate(0.2, 0.2, 0.5, settings) == pytest.approx(0.1)
    assert calibrate(0.5, 0.2, 0.5, settings) == pytest.approx(0.5)
    assert calibrate(0.4, 0.5, 0.3, settings) is None  # wrong scored above partial
    assert calibrate(0.4, 0.30, 0.32, settings) is None  # too close to tell apart


def make_anchors(card: QuestionCard) -> Anchors:
    return Anchors(
        card_id=card.id, card_hash=card_hash(card), full=FULL, partial=PARTIAL, wrong=WRONG
    )


def anchored_reference(card: QuestionCard, anchors: Anchors) -> Reference:
    return Reference(
        question=card.question,
        key_points=card.key_points,
        texts=[*card.reference_texts(), anchors.full],
        card=card,
        anchors=anchors,
        used=ReferenceUsed(card_id=card.id, anchored=True),
    )


def test_scorer_prompt_shows_anchors_as_examples_before_the_answer(settings: Settings) -> None:
    from coach.grading.scorer import LlmScorer

    card = make_card()
    anchors = Anchors(
        card_id="c1", card_hash=card_hash(card), full=FULL, partial=PARTIAL, wrong=WRONG
    )
    messages = LlmScorer(settings, chat_model=FakeListChatModel(responses=["3"])).messages(
        card.question, "候选人的答案", anchored_reference(card, anchors)
    )
    user = str(messages[-1].content)
    assert user.index("5 分：") < user.index("1 分：") < user.index("候选人的答案")
    assert user.count(anchors.full) == 1  # an example, not also a reference


class FakeServices:
    def __init__(self, settings: Settings, cards: list[QuestionCard]) -> None:
        self.settings = settings
        self.cards = cards
        self.anchor_store = AnchorStore(settings)


def test_bank_tab_shows_missing_then_saved_anchors(settings: Settings) -> None:
    from coach.ui.browse import card_anchors, save_anchors

    services = FakeServices(settings, [make_card()])
    *texts, line = card_anchors(services, "c1", "zh")
    assert texts == ["", "", ""] and "coach anchors generate --card c1" in line
    assert save_anchors(services, "c1", "全", "半", "错", "en").startswith("Saved")
    *texts, line = card_anchors(services, "c1", "en")
    assert texts == ["全", "半", "错"] and "person" in line
    assert "empty" in save_anchors(services, "c1", "全", "", "错", "en")
    assert card_anchors(services, "nope", "en")[3].startswith("Pick a card")


def test_generate_without_an_index_or_server_says_what_to_run(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coach.cli import app
    from coach.config import get_settings

    monkeypatch.setenv("COACH_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens
    get_settings.cache_clear()
    runner = CliRunner()
    result = runner.invoke(app, ["anchors", "generate"])
    assert result.exit_code == 1 and "coach ingest" in result.output
    corpus = Corpus(cards=[make_card()], chunks=[])

    write_text_atomic(settings.paths.corpus_file, corpus.model_dump_json())
    result = runner.invoke(app, ["anchors", "generate"])
    assert result.exit_code == 1 and "coach serve-model --detach" in result.output
    result = runner.invoke(app, ["anchors", "show", "c1"])
    assert result.exit_code == 1 and "no current anchors (none)" in result.output


def test_generate_writes_each_card_and_skips_current_ones(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coach.cli import app

    second = make_card().model_copy(update={"id": "c2"})
    write_text_atomic(
        settings.paths.corpus_file, Corpus(cards=[make_card(), second], chunks=[]).model_dump_json()
    )
    monkeypatch.setattr("coach.llm.client.check_server", lambda settings: None)
    fake = FakeListChatModel(responses=[*REPLIES, "", ""])
    monkeypatch.setattr(AnchorWriter, "model", property(lambda self: fake))
    result = CliRunner().invoke(app, ["anchors", "generate"])
    assert result.exit_code == 1, result.output  # c2's full answer came back empty twice
    assert "1 cards got anchors" in result.output and "c2" in result.output
    assert AnchorStore(settings).get(make_card()) is not None
    fake.responses, fake.i = REPLIES, 0
    result = CliRunner().invoke(app, ["anchors", "generate"])
    assert result.exit_code == 0 and "1 cards got anchors" in result.output
    assert "All 2 cards" in CliRunner().invoke(app, ["anchors", "generate"]).output
    shown = CliRunner().invoke(app, ["anchors", "show", "c2"])
    assert shown.exit_code == 0 and "partial:" in shown.output


@pytest.mark.slow
@pytest.mark.integration
def test_anchors_take_part_in_a_real_grade(tmp_path: Path) -> None:
    from coach.grading.grader import Grader

    card = make_card(
        "1. **正则化（Regularization）：** 权重衰减、L1、L2 正则化，减少模型复杂度。\n"
        "2. **Dropout：** 训练时随机丢弃一部分神经元，提高泛化能力。"
    )
    anchors = Anchors(
        card_id="c1", card_hash=card_hash(card), full=FULL, partial=PARTIAL, wrong=WRONG
    )
    ref = anchored_reference(card, anchors)
    plain = Settings(models_dir_override=MODELS_DIR)
    rubric = Grader(plain, use_llm=False).rubric
    wrong = rubric.grade(card.question, "多训练几轮、把模型做得更大，就不会过拟合。", ref)
    good = rubric.grade(card.question, anchors.full, ref)
    assert good.evidence.anchor == "full" and wrong.evidence.anchor == "wrong"
    assert good.score > wrong.score
    assert not good.evidence.calibrated
    calibrated = Settings(models_dir_override=MODELS_DIR, grading_anchor_calibration=True)
    c_rubric = Grader(calibrated, use_llm=False).rubric
    again = c_rubric.grade(card.question, "多训练几轮、把模型做得更大，就不会过拟合。", ref)
    assert again.evidence.anchor == "wrong"
    ((wrong_anchor, partial_anchor),) = c_rubric.evidence._anchor_scores.values()
    expected = calibrate(wrong.evidence.score, wrong_anchor, partial_anchor, calibrated)
    assert again.evidence.calibrated == (expected is not None)
    if expected is not None:  # the anchors were ordered and far enough apart
        assert again.evidence.score == pytest.approx(expected, abs=1e-4)


def test_scorer_asks_once_per_prompt_and_keeps_a_bounded_cache(settings: Settings) -> None:
    """The same answer to the same card is asked once: the cached score comes back, not
    the model's next reply, and the cache keeps only its configured size."""
    import asyncio

    from coach.grading.scorer import LlmScorer

    card = make_card()
    ref = anchored_reference(card, make_anchors(card))
    small = settings.model_copy(update={"grading_scorer_cache_size": 2})
    model = FakeListChatModel(responses=["3", "5", "1", "4"])
    scorer = LlmScorer(small, chat_model=model)

    def score(answer: str) -> float | None:
        return asyncio.run(scorer.ascore(card.question, answer, ref, [])).score

    assert score("甲") == 6.0
    assert score("甲") == 6.0, "asked again: the cached score, not the model's next reply"
    assert score("乙") == 10.0
    assert score("丙") == 2.0  # the cache holds two: 甲 is dropped
    assert score("甲") == 8.0
    off = LlmScorer(
        settings.model_copy(update={"grading_scorer_cache_size": 0}),
        chat_model=FakeListChatModel(responses=["3", "5"]),
    )
    again = [asyncio.run(off.ascore(card.question, "甲", ref, [])).score for _ in range(2)]
    assert again == [6.0, 10.0]
