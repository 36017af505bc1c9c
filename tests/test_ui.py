"""The UI's logic without a browser: events become escaped chat messages, the batch
tab grades through coach.batch, strings exist in both languages, the app builds."""

from __future__ import annotations

import asyncio
import copy
import csv
import json
from pathlib import Path

from coach.config import Settings
from coach.interview.engine import InterviewEngine, Services
from coach.interview.models import InterviewConfig
from coach.store.history import HistoryStore
from coach.ui.app import build_app
from coach.ui.batch import grade_file
from coach.ui.chat import stream_into_chat
from coach.ui.services import AppServices
from coach.ui.strings import keys
from tests.batch_fakes import FakeGrader
from tests.interview_fakes import CARDS, KeywordGrader, down_model, recording_model


def collect(agen):
    """Every update, snapshotted (the chat list is updated in place between them)."""

    async def run():
        return [copy.deepcopy(item) async for item in agen]

    return asyncio.run(run())


def test_both_languages_have_every_string() -> None:
    assert keys("zh") == keys("en")


def test_both_languages_have_every_interview_phrase() -> None:
    from coach.interview.phrases import _all

    table = _all()
    assert set(table["zh"]) == set(table["en"])


def test_chat_streams_in_place_and_escapes_model_and_candidate_text(
    tmp_path: Path, settings: Settings
) -> None:
    model = recording_model(["What is <b>int8</b> <script>x()</script> quantisation?", "F?"])
    services = Services(
        settings=settings,
        cards=CARDS,
        grader=KeywordGrader(CARDS),
        store=HistoryStore(tmp_path / "h.sqlite3", settings),
        chat_model=model,
    )
    # language="en": the fake model asks in English (a Chinese interview would replace
    # an English question with the card's own)
    config = InterviewConfig(topic="推理与部署", questions=1, language="en")
    engine = InterviewEngine(services, config)
    chat: list[dict] = []
    updates = collect(stream_into_chat(engine.start(), engine, "zh", chat))
    card = services.cards_by_id[engine.current_turn.card_id]
    assert card.question in updates[0][0][0]["content"], "the card's question comes first"
    assert len(chat) == 1, "the model's phrasing replaces it in place"
    message = chat[0]["content"]
    assert "<script>" not in message and "&lt;script&gt;" in message
    assert "第 1/1 题" in message
    chat.append({"role": "user", "content": "int8"})
    updates = collect(stream_into_chat(engine.answer("int8"), engine, "zh", chat))
    assert updates[0][0][-1]["content"].startswith("评分中")
    graded = [u for u in updates if u[1]]
    assert graded, "a grade arrived"
    contents = [m["content"] for m in chat]
    assert any("得分：5.0/10" in c for c in contents)
    assert not any(c.startswith("评分中") for c in contents), "placeholder replaced by the grade"
    assert any("❌ 遗漏：calibration" in c for c in contents)


def test_provisional_grade_is_replaced_in_place_by_the_final_one(
    tmp_path: Path, settings: Settings
) -> None:
    services = Services(
        settings=settings,
        cards=CARDS,
        grader=KeywordGrader(CARDS, provisional=True),
        store=HistoryStore(tmp_path / "h.sqlite3", settings),
        chat_model=None,
    )
    engine = InterviewEngine(services, InterviewConfig(topic="推理与部署", questions=1))
    chat: list[dict] = []
    collect(stream_into_chat(engine.start(), engine, "zh", chat))
    asked = len(chat)
    updates = collect(stream_into_chat(engine.answer("int8"), engine, "zh", chat))
    grade_message = [u[0][asked]["content"] for u in updates]
    assert grade_message[0].startswith("评分中")
    assert any("得分：2.5/10" in m and "模型正在复核" in m for m in grade_message)
    final = chat[asked]["content"]
    assert "得分：5.0/10" in final and "模型正在复核" not in final, "replaced in place"
    assert sum("得分" in m["content"] for m in chat) == 1, "one grade message per answer"


def test_batch_tab_grades_through_coach_batch_and_offers_both_files(
    tmp_path: Path, settings: Settings
) -> None:
    upload = tmp_path / "answers.csv"
    upload.write_text(
        "id,question,answer\n"
        "1,如何防止过拟合？,正则化 和 Dropout\n"
        "2,如何防止过拟合？,<script>x</script>\n",
        "utf-8",
    )
    services = AppServices(settings, grader=FakeGrader())
    updates = collect(grade_file(services, str(upload), True, "en"))
    status, files = updates[-1]
    assert status.startswith("Done: 2 rows, 0 errors")
    results, report = (Path(f) for f in files)
    rows = list(csv.DictReader(results.open(encoding="utf-8")))
    assert [float(r["score"]) for r in rows] == [5.0, 0.0]
    assert "&lt;script&gt;" in report.read_text("utf-8")
    assert upload.exists(), "the upload itself is not touched"
    assert collect(grade_file(services, None, True, "zh"))[-1] == ("请先上传文件。", None)


def test_app_builds_without_an_index(settings: Settings) -> None:
    app = build_app(settings)
    assert app.title == "coach"


def test_engine_started_without_the_model_does_not_repeat_the_uis_notice(
    tmp_path: Path, settings: Settings
) -> None:
    """The UI found the server down and said so; the engine neither says it again nor
    asks the model."""
    model = down_model()
    services = Services(
        settings=settings,
        cards=CARDS,
        grader=KeywordGrader(CARDS),
        store=HistoryStore(tmp_path / "h.sqlite3", settings),
        chat_model=model,
    )
    engine = InterviewEngine(services, InterviewConfig(topic="推理与部署", questions=1))
    engine.continue_without_model()
    chat: list[dict] = []
    collect(stream_into_chat(engine.start(), engine, "zh", chat))
    assert engine.model_down
    assert model.calls == 0, "a server found down is not asked"
    assert not any(m["content"].startswith("⚠️") for m in chat), "no second notice"
    assert CARDS[1].question in chat[-1]["content"], "the card's own text is asked"


def test_batch_runner_reports_progress_per_finished_row(tmp_path: Path, settings: Settings) -> None:
    """The batch tab's progress source: one (done, total) call per journaled row."""
    from coach.batch.run import arun_batch

    upload = tmp_path / "answers.csv"
    upload.write_text("id,question,answer\n1,q,正则化\n2,q,Dropout\n3,q,早停\n", "utf-8")
    calls: list[tuple[int, int]] = []
    asyncio.run(
        arun_batch(
            upload,
            tmp_path / "out.csv",
            settings=settings,
            grader=FakeGrader(),
            concurrency=1,
            progress=False,
            on_progress=lambda done, total: calls.append((done, total)),
        )
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_batch_tab_shows_the_runners_progress(
    tmp_path: Path, settings: Settings, monkeypatch
) -> None:
    """What ``on_progress`` reported is what the status line shows while rows run."""
    import coach.batch.run as batch_run

    real = batch_run.arun_batch

    async def slow_start(*args, on_progress, **kwargs):
        on_progress(1, 2)  # as if one row were already journaled
        await asyncio.sleep(settings.ui.batch_poll_seconds * 3)
        return await real(*args, on_progress=on_progress, **kwargs)

    monkeypatch.setattr(batch_run, "arun_batch", slow_start)
    upload = tmp_path / "answers.csv"
    upload.write_text("id,question,answer\n1,q,正则化\n2,q,Dropout\n", "utf-8")
    services = AppServices(settings, grader=FakeGrader())
    statuses = [status for status, _ in collect(grade_file(services, str(upload), True, "en"))]
    assert statuses[0] == "graded 0/2"
    assert "graded 1/2" in statuses[1:-1]
    assert statuses[-1].startswith("Done: 2 rows, 0 errors")


def test_bank_tab_reviews_generated_cards(tmp_path: Path, settings: Settings) -> None:
    """The question-bank tab's review of generated cards, on the store ``coach
    generate-cards`` writes: listed with their source text, an empty question refused
    with a message and nothing stored, an edit kept, one accepted into interviews (and
    its topic into the direction lists), one rejected."""
    from coach.corpus import generated
    from coach.corpus.catalog import Catalog
    from coach.corpus.parser import make_splitter, parse_text
    from coach.index.ingest import _generated_cards
    from coach.interview.selection import askable
    from coach.llm.card_writer import card_from_reply
    from coach.ui import browse
    from coach.ui.context import UiContext
    from tests.test_generated_cards import GOOD, NOTES

    settings.corpus.generate_min_chars = 100
    notes = (
        NOTES + "\n## 流水线并行\n\n" + "流水线并行把模型按层切成多段，各段放在不同 GPU 上。" * 6
    )
    catalog = Catalog()
    catalog.documents["/x/notes/train.md"] = parse_text(
        "notes/train.md", notes, make_splitter(600, 80)
    )

    class Services(AppServices):
        def reindex(self) -> None:  # what ingest writes, without embedding
            corpus = catalog.build(0.72)
            corpus.cards.extend(_generated_cards(corpus, self.settings))
            self.settings.paths.corpus_file.parent.mkdir(parents=True, exist_ok=True)
            self.settings.paths.corpus_file.write_text(corpus.model_dump_json(), "utf-8")
            self.reindexed = getattr(self, "reindexed", 0) + 1
            self.__dict__.pop("corpus", None)

    services = Services(settings, grader=FakeGrader())
    assert browse.pending_rows(services)[0][0] == 0, "no index yet: the row says what to run"
    services.reindex()
    path = settings.paths.generated_cards_file
    first, second = generated.sections(services.corpus.chunks, 100)
    generated.append(path, card_from_reply(GOOD, first, "qwen"))
    other = json.dumps(
        {
            "question": "什么是流水线并行？",
            "answer": "把模型按层切成多段，放在不同 GPU 上。",
            "key_points": ["模型按层切成多段", "各段放在不同 GPU 上"],
        },
        ensure_ascii=False,
    )
    generated.append(path, card_from_reply(other, second, "qwen"))
    services.reindex()
    assert not any(askable(c) for c in services.cards), "generated: never asked yet"

    rows = browse.pending_rows(services)
    assert [r[2] for r in rows] == ["张量并行是怎么切分权重并通信的？", "什么是流水线并行？"]
    assert rows[0][3].startswith("notes/train.md:4-"), "the source span, from line 4"
    tensor_id, pipeline_id = rows[0][-1], rows[1][-1]
    question, answer, points, origin, source = browse.pending_card(services, tensor_id, "en")
    assert question == "张量并行是怎么切分权重并通信的？"
    assert points.splitlines()[0] == "权重矩阵按行或按列切到多张 GPU 上"
    assert "notes/train.md:4-" in origin and "qwen" in origin
    assert "Megatron-LM" in source, "the section the card came from is shown beside it"

    runs = services.reindexed
    refused = browse.save_pending(services, tensor_id, "  ", answer, points, "en")
    assert not refused.done and refused.message == "❌ The question cannot be empty."
    refused = browse.accept_pending(services, tensor_id, "", answer, points, "zh")
    assert not refused.done and "问题不能为空" in refused.message
    assert services.reindexed == runs, "a refused accept changes nothing"
    assert not generated.load(path)[first.key].edited
    assert browse.save_pending(services, "", "q", "a", "", "en").message.startswith("Pick")

    saved = browse.save_pending(services, tensor_id, "张量并行如何切分？", answer, points, "en")
    assert saved.done
    assert browse.pending_card(services, tensor_id, "en")[0] == "张量并行如何切分？"
    assert "Edited" in browse.pending_card(services, tensor_id, "en")[3]

    accepted = browse.accept_pending(
        services, tensor_id, "张量并行如何切分权重？", answer, points, "en"
    )
    assert accepted.done and accepted.message.startswith("1 cards accepted")
    (card,) = [c for c in services.cards if c.id == tensor_id]
    assert askable(card) and card.question == "张量并行如何切分权重？", "asked as edited"
    ctx = UiContext(settings, services, None, "zh", [])
    ctx.topic_fields.append(object())
    (update,) = ctx.refresh_topics("zh")
    assert ("分布式训练", "分布式训练") in update["choices"], "its topic joins the list"

    assert browse.reject_pending(services, pipeline_id, "en").done
    assert browse.pending_rows(services) == []
    assert all(c.id != pipeline_id for c in services.cards), "rejected: out of the bank"
    again = browse.reject_pending(services, pipeline_id, "en")
    assert not again.done and "rejected" in again.message
    assert browse.accept_all_pending(services, "en").message.startswith("0 cards")
    config = build_app(settings, services).config
    ids = {c["id"]: c for c in config["components"]}

    def inside(node: dict, tab: bool = False) -> set:
        props = ids.get(node["id"], {}).get("props", {})
        here = tab or (
            ids.get(node["id"], {}).get("type") == "tabitem" and props.get("id") == "corpus"
        )
        found = {props.get("elem_id")} if here else set()
        for child in node.get("children", []):
            found |= inside(child, here)
        return found

    assert {"review", "review-list", "review-accept"} <= inside(config["layout"]), (
        "the review is in the question-bank tab"
    )


def test_the_app_warms_its_own_services_up_and_not_injected_ones(
    settings: Settings, monkeypatch
) -> None:
    """The first question appeared 10.4 s after Start on a UI just started (the models
    loaded on first use); ``coach ui`` now loads them in the background as it starts."""
    calls: list[AppServices] = []
    monkeypatch.setattr(AppServices, "warm_up", lambda self: calls.append(self))
    build_app(settings)
    assert len(calls) == 1, "its own services"
    build_app(settings, AppServices(settings))
    assert len(calls) == 1, "injected services are the caller's"
    cold = settings.model_copy(update={"ui": settings.ui.model_copy(update={"warm_up": False})})
    build_app(cold)
    assert len(calls) == 1


def test_warming_up_without_an_index_fails_quietly(settings: Settings) -> None:
    thread = AppServices(settings).warm_up()
    thread.join(timeout=60)
    assert not thread.is_alive()


def test_an_interview_starts_before_the_grader_and_index_are_loaded(
    tmp_path: Path, settings: Settings
) -> None:
    """Start needs only the cards; the grader loads (in a worker thread) on the first
    grade, and the searcher on the first search, unless they are loaded already."""
    import asyncio

    from coach.ui.deferred import Deferred, DeferredGrader
    from tests.interview_fakes import CARDS, FakeSearcher, KeywordGrader

    loads: list[str] = []
    grader, searcher = KeywordGrader(CARDS), FakeSearcher()

    def load_grader():
        loads.append("grader")
        return grader

    def load_searcher():
        loads.append("searcher")
        return searcher

    deferred = DeferredGrader(load_grader)
    assert loads == [], "nothing is loaded until used"

    async def grade():
        return [g async for g, _ in deferred.astages("q", "dropout", card_id="overfit")]

    stages = asyncio.run(grade())
    assert loads == ["grader"] and stages[-1].covered == ["dropout"]
    hits = Deferred(load_searcher).search("dropout", 1)
    assert loads == ["grader", "searcher"] and hits[0].title == "Dropout"
    services = AppServices(settings, grader=grader)
    assert services.deferred_grader(True) is grader, "a loaded grader is handed over as is"
    assert isinstance(services.deferred_grader(False), DeferredGrader)
