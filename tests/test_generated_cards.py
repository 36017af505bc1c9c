"""Issue 28: cards the LLM writes from notes that ask nothing.

The model is replaced by scripted replies (the real 1.5B pack is measured by hand, see
the README): what is tested is what coach does with a reply, good or bad.
"""

from __future__ import annotations

import json

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from coach.config import Settings
from coach.corpus import generated
from coach.corpus.catalog import Catalog
from coach.corpus.parser import make_splitter, parse_text
from coach.interview.selection import askable, topics_of
from coach.llm.card_writer import card_from_reply, generate_cards

NOTES = (
    "# 分布式训练\n\n## 张量并行\n\n"
    "张量并行把一层的权重矩阵按行或按列切到多张 GPU 上，每张卡只算矩阵乘法的一部分。"
    "切列时各卡输出拼接，切行时各卡输出相加，需要一次 AllReduce 通信。"
    "Megatron-LM 在注意力和 MLP 中交替使用列切分和行切分，使每个 Transformer 块只需要"
    "两次 AllReduce。张量并行通信量大，通常只在一台机器内部的 NVLink 上使用。\n\n"
    "## 小结\n\n很短。\n"
)
GOOD = json.dumps(
    {
        "question": "张量并行是怎么切分权重并通信的？",
        "answer": "把权重矩阵按行或按列切到多张 GPU 上；切行时输出相加，需要 AllReduce。",
        "key_points": [
            "权重矩阵按行或按列切到多张 GPU 上",
            "切行时各卡输出相加，需要一次 AllReduce 通信",
            "张量并行通常只在一台机器内部的 NVLink 上使用",
            "量子计算可以加速张量并行",  # not in the section: dropped
        ],
    },
    ensure_ascii=False,
)


def _sections(text: str = NOTES) -> list[generated.Section]:
    doc = parse_text("notes/train.md", text, make_splitter(600, 80))
    return generated.sections(doc.chunks, min_chars=100)


def test_only_sections_with_substance_are_offered() -> None:
    (section,) = _sections()
    assert section.title == "分布式训练 / 张量并行"
    assert section.file == "notes/train.md" and section.start_line == 4


def test_a_reply_keeps_only_points_found_in_the_section() -> None:
    (section,) = _sections()
    record = card_from_reply(f"好的：\n{GOOD}\n", section, "m")
    assert not record.rejected
    assert len(record.key_points) == 3
    assert not any("量子" in p for p in record.key_points)
    bad = card_from_reply("张量并行就是并行。", section, "m")
    assert bad.rejected == "the reply held no JSON object"
    invented = json.dumps(
        {
            "question": "什么是量子计算？",
            "answer": "量子比特。",
            "key_points": ["量子比特", "叠加态"],
        },
        ensure_ascii=False,
    )
    assert card_from_reply(invented, section, "m").rejected == (
        "2 of 2 key points not in the section"
    )


def test_generation_is_stored_resumable_and_waits_for_acceptance(settings: Settings) -> None:
    sections = _sections()
    chat = FakeListChatModel(responses=[GOOD])
    report = generate_cards(sections, settings, chat, concurrency=2)
    assert (report.written, report.rejected, report.skipped) == (1, 0, 0)
    # A second run asks nothing: the section is done.
    again = generate_cards(sections, settings, FakeListChatModel(responses=["unused"]))
    assert (again.written, again.skipped) == (0, 1)

    store = generated.load(settings.paths.generated_cards_file)
    (card,) = generated.as_cards(store, sections, accept_all=False)
    assert card.kind == "generated" and not card.accepted
    assert card.sources[0].ref() == "notes/train.md:4"
    assert not askable(card) and topics_of([card]) == []
    (accepted,) = generated.as_cards(store, sections, accept_all=True)
    assert askable(accepted)
    # A section that changed since drops its card until it is generated again.
    changed = _sections(NOTES.replace("两次 AllReduce", "两次通信"))
    assert generated.as_cards(store, changed, accept_all=True) == []


def test_generated_cards_join_the_corpus_at_ingest(settings: Settings) -> None:
    """What ``coach ingest`` adds after the parsed cards (without embedding)."""
    from coach.index.ingest import _generated_cards

    catalog = Catalog()
    catalog.documents["/x/notes/train.md"] = parse_text(
        "notes/train.md", NOTES, make_splitter(600, 80)
    )
    corpus = catalog.build(0.72)
    settings.corpus.generate_min_chars = 100
    assert _generated_cards(corpus, settings) == []
    generate_cards(_sections(), settings, FakeListChatModel(responses=[GOOD]))
    (card,) = _generated_cards(corpus, settings)
    assert card.title == "张量并行是怎么切分权重并通信的？"
    assert card.topic == "分布式训练"  # "notes" says nothing: the top heading does


# --- review: what the question-bank tab does with the store -----------------------------


def _stored(settings: Settings) -> tuple[list[generated.Section], str]:
    """The store as ``coach generate-cards`` leaves it: one card written, not accepted."""
    sections = _sections()
    record = card_from_reply(GOOD, sections[0], "qwen")
    generated.append(settings.paths.generated_cards_file, record)
    return sections, record.card_id


def test_an_edit_is_kept_in_the_store_and_reaches_the_card(settings: Settings) -> None:
    sections, card_id = _stored(settings)
    path = settings.paths.generated_cards_file
    change = generated.CardEdit.parse(
        "  张量并行怎样切分权重？为什么要 AllReduce？ ",
        "按行或按列切权重；切行后各卡输出相加。",
        "- 按行或按列切分权重\n\n2. 切行时输出相加，需要 AllReduce\n- 按行或按列切分权重\n",
    )
    assert change.key_points == ["按行或按列切分权重", "切行时输出相加，需要 AllReduce"]
    generated.edit(path, card_id, change)
    (record,) = generated.load(path).values()
    assert record.edited and not record.accepted
    assert record.question == "张量并行怎样切分权重？为什么要 AllReduce？"
    (card,) = generated.as_cards(generated.load(path), sections, accept_all=False)
    assert card.question == record.question and card.answer == record.answer
    assert [p.label for p in card.key_points] == change.key_points
    assert card.id == card_id, "an edit keeps the card's id (its history stays with it)"
    assert generated.pending(generated.load(path), sections) == [record]


def test_an_empty_or_ungradable_edit_is_refused_and_nothing_is_stored(settings: Settings) -> None:
    _, card_id = _stored(settings)
    path = settings.paths.generated_cards_file
    before = path.read_text("utf-8")
    refusals = {
        ("   ", "答案", "要点"): "empty_question",
        ("问题？", " ", "\n- \n"): "nothing_to_grade",
        ("问" * 501, "答案", ""): "too_long",
        ("问题？", "答案", "\n".join(f"要点{i}" for i in range(13))): "too_long",
    }
    for (question, answer, points), code in refusals.items():
        try:
            generated.CardEdit.parse(question, answer, points)
        except generated.ReviewError as exc:
            assert exc.code == code
        else:
            raise AssertionError(f"{code} was not refused")
    try:
        generated.edit(path, "nope", generated.CardEdit.parse("问？", "答", ""))
    except generated.ReviewError as exc:
        assert exc.code == "unknown"
    assert path.read_text("utf-8") == before
    # An answer alone is enough to grade on.
    generated.edit(path, card_id, generated.CardEdit.parse("问？", "答。", ""))


def test_accept_and_reject_as_the_cli_and_the_tab_share_them(settings: Settings) -> None:
    sections = _sections(
        NOTES + "\n## 流水线并行\n\n" + "流水线并行把模型按层切成多段。" * 12 + "\n"
    )
    first, second = sections
    path = settings.paths.generated_cards_file
    generated.append(path, card_from_reply(GOOD, first, "qwen"))
    pipeline = json.dumps(
        {
            "question": "什么是流水线并行？",
            "answer": "流水线并行把模型按层切成多段。",
            "key_points": ["流水线并行把模型按层切成多段", "按层切成多段"],
        },
        ensure_ascii=False,
    )
    generated.append(path, card_from_reply(pipeline, second, "qwen"))
    ids = [r.card_id for r in generated.load(path).values()]
    assert len(ids) == 2 and len(generated.pending(generated.load(path), sections)) == 2

    assert generated.accept(path, {ids[0], "other"}) == (1, {"other"})
    assert generated.accept(path, {ids[0]}) == (0, set()), "accepting twice changes nothing"
    generated.reject(path, ids[1])
    store = generated.load(path)
    assert generated.pending(store, sections) == []
    (card,) = generated.as_cards(store, sections, accept_all=False)
    assert card.id == ids[0] and askable(card)
    assert generated.accept(path, None) == (0, set()), "a rejected card is never accepted"
    try:
        generated.edit(path, ids[1], generated.CardEdit.parse("问？", "答", ""))
    except generated.ReviewError as exc:
        assert exc.code == "was_rejected"
    # --retry asks again where the model failed, not where a person said no.
    report = generate_cards(sections, settings, FakeListChatModel(responses=["unused"]), retry=True)
    assert (report.written, report.rejected, report.skipped) == (0, 0, 2)
