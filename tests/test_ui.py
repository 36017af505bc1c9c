"""The UI's logic without a browser: events become escaped chat messages, the batch
tab grades through coach.batch, strings exist in both languages, the app builds."""

from __future__ import annotations

import asyncio
import copy
import csv
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
