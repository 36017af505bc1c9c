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
from coach.ui.app import build_app, stream_into_chat
from coach.ui.batch import grade_file
from coach.ui.services import AppServices
from coach.ui.strings import keys
from tests.batch_fakes import FakeGrader
from tests.interview_fakes import CARDS, KeywordGrader, recording_model


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
