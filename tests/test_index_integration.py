"""The paths users take, against the real embedding model and a real Chroma store."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coach.cli import app
from coach.config import Settings
from coach.index.ingest import ingest
from coach.index.retriever import Filters, HybridSearcher
from coach.index.store import StoreError, open_collection, stored_hashes

from .conftest import CORPUS, MODELS_DIR

pytestmark = [pytest.mark.slow, pytest.mark.integration]
OVERFITTING = "如何处理大模型的过拟合问题？"


def make_settings(data_dir: Path, **extra: object) -> Settings:
    return Settings(data_dir=data_dir, models_dir_override=MODELS_DIR, **extra)


@pytest.fixture(scope="session")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The whole corpus ingested once, into the embedded on-disk store."""
    settings = make_settings(tmp_path_factory.mktemp("indexed"))
    report = ingest([CORPUS], settings)
    assert report.files_failed == []
    return settings


@pytest.fixture(scope="session")
def searcher(indexed: Settings) -> HybridSearcher:
    return HybridSearcher(indexed)


def use(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """Point the CLI (which reads the environment) at ``settings``' data dir."""
    monkeypatch.setenv("COACH_DATA_DIR", str(settings.paths.data_dir))
    if settings.chroma.url:
        monkeypatch.setenv("COACH_CHROMA_URL", settings.chroma.url)
    from coach.config import get_settings

    get_settings.cache_clear()


def test_ingest_counts_and_the_overfitting_question(
    indexed: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, indexed)
    result = CliRunner().invoke(app, ["search", "模型在测试集上效果差怎么办", "--json", "-k", "5"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)["hits"]
    assert hits[0]["title"] == OVERFITTING
    assert set(hits[0]) >= {"question", "title", "source", "score", "topic"}
    assert hits[0]["source"].startswith("000_006c2612704ae2d7.txt:")
    assert hits[0]["topic"] == "训练优化"
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_reingest_changes_nothing(indexed: Settings) -> None:
    collection = open_collection(indexed, indexed.embedding.model)
    before = stored_hashes(collection)
    report = ingest([CORPUS], indexed)
    assert (report.added, report.updated, report.deleted) == (0, 0, 0)
    assert report.unchanged == len(before) == report.records
    assert len(report.files_unchanged) == 5 and report.files_parsed == []
    assert stored_hashes(collection) == before


def test_changed_file_replaces_exactly_its_own_records(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("000_006c2612704ae2d7.txt", "004_e1cb5615fcc131f8.txt"):
        shutil.copy(CORPUS / name, docs / name)
    settings = make_settings(tmp_path / "data")
    first = ingest([docs], settings)
    collection = open_collection(settings, settings.embedding.model)
    before = stored_hashes(collection)

    edited = docs / "004_e1cb5615fcc131f8.txt"
    text = edited.read_text("utf-8")
    assert "减少模型大小。" in text
    edited.write_text(text.replace("减少模型大小。", "减少模型大小和显存占用。", 1), "utf-8")
    report = ingest([docs], settings)
    after = stored_hashes(collection)

    changed = {i for i in after if before.get(i) != after[i]}
    assert report.files_parsed == [str(edited)] and report.updated == len(changed) >= 1
    assert report.added == report.deleted == 0
    got = collection.get(ids=sorted(changed), include=["metadatas"])
    assert all("004_e1cb5615fcc131f8.txt" in json.loads(m["files"]) for m in got["metadatas"])
    assert len(after) == len(before) == first.records


def test_bad_files_are_named_and_the_rest_is_ingested(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "mine"
    docs.mkdir()
    (docs / "good.md").write_text(
        "## 1. 什么是梯度裁剪？\n\n**题目：** 什么是梯度裁剪？\n\n**答案：**\n\n"
        "1. **裁剪范数（Gradient Clipping）：** 梯度范数超过阈值时按比例缩小，防止梯度爆炸。\n",
        "utf-8",
    )
    (docs / "broken.md").write_bytes(b"\x00\xff\x00 not text")
    (docs / "gbk.txt").write_bytes(
        "## 关于早停\n\n早停（Early Stopping）在验证集损失不再下降时停止训练。\n".encode("gbk")
    )
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4")
    settings = make_settings(tmp_path / "data")
    use(monkeypatch, settings)
    result = CliRunner().invoke(app, ["ingest", str(docs), str(scan)])
    assert result.exit_code == 2
    assert "broken.md" in result.stderr and "binary" in result.stderr
    assert "scan.pdf" in result.stderr and "unsupported file type" in result.stderr
    hits = HybridSearcher(settings).search("gradient clipping 是什么", 3)
    assert hits[0].title == "什么是梯度裁剪？"
    assert any("早停" in h.text for h in HybridSearcher(settings).search("early stopping", 3))


def test_filters(searcher: HybridSearcher) -> None:
    hits = searcher.search("数据", 10, Filters(topic="数据与隐私"))
    assert hits and all(h.topic == "数据与隐私" for h in hits)
    only = searcher.search("大模型", 10, Filters(source="004_e1cb5615fcc131f8.txt"))
    assert only and all("004_e1cb5615fcc131f8.txt" in h.files for h in only)
    article = searcher.search("Mermaid 流程图", 3, Filters(kind="article"))
    assert article and all(h.kind == "article" for h in article)


def test_each_retriever_mode_finds_the_card(searcher: HybridSearcher) -> None:
    for mode in ("dense", "bm25", "hybrid"):
        titles = [h.title for h in searcher.search("过拟合怎么解决", 5, mode=mode)]
        assert OVERFITTING in titles, mode


def test_cards_command(indexed: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, indexed)
    result = CliRunner().invoke(app, ["cards", "--json"])
    cards = json.loads(result.stdout)["cards"]
    assert len(cards) == 76
    overfit = next(c for c in cards if c["title"] == OVERFITTING)
    assert overfit["sources"] >= 3 and overfit["key_points"] >= 5


def test_plan_for_a_job_on_the_seed_bank(
    indexed: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`coach plan` on the real index: the backend JD gets no AI question at all, the
    training JD's questions all come from its areas (eval/jobs, issue 31)."""
    use(monkeypatch, indexed)
    jobs = Path(__file__).parents[1] / "eval" / "jobs"
    backend = CliRunner().invoke(app, ["plan", "--jd", str(jobs / "backend.md"), "--json"])
    plan = json.loads(backend.stdout)
    assert plan["questions"] == [] and plan["uncovered"] == ["后端工程"]
    training = CliRunner().invoke(app, ["plan", "--jd", str(jobs / "training.md"), "--json"])
    plan = json.loads(training.stdout)
    areas = {a["name"] for a in plan["areas"]}
    assert "训练与微调" in areas and "后端工程" not in areas
    assert len(plan["questions"]) == 5 and {q["area"] for q in plan["questions"]} <= areas


def test_changing_embedding_model_is_refused(indexed: Settings) -> None:
    with pytest.raises(StoreError, match="--rebuild"):
        open_collection(indexed, "some-other-model")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path: Path):
    port = _free_port()
    chroma = Path(sys.executable).with_name("chroma")
    log = (tmp_path / "chroma.log").open("w")
    proc = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited: {(tmp_path / 'chroma.log').read_text()}")
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def test_chroma_server_mode(
    tmp_path: Path, chroma_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path / "data", chroma_url=chroma_server)
    first = ingest([CORPUS / "000_006c2612704ae2d7.txt"], settings)
    assert first.added == first.records > 20
    again = ingest([CORPUS / "000_006c2612704ae2d7.txt"], settings)
    assert again.unchanged == first.records and not again.changed
    assert not settings.paths.chroma_dir.exists()  # nothing went to the embedded store
    use(monkeypatch, settings)
    result = CliRunner().invoke(app, ["search", "过拟合怎么办", "--json", "-k", "1"])
    assert json.loads(result.stdout)["hits"][0]["title"] == OVERFITTING


def test_unreachable_chroma_server_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path / "data", chroma_url=f"http://127.0.0.1:{_free_port()}")
    use(monkeypatch, settings)
    result = CliRunner().invoke(app, ["ingest", str(CORPUS / "000_006c2612704ae2d7.txt")])
    assert result.exit_code == 1
    assert "Cannot reach the Chroma server" in result.stderr and "chroma run" in result.stderr
