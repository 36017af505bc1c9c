"""Issue 14: ingest must never lose files it still has, nor keep cards of files it lost.

The index after any sequence of ingests must equal a fresh ingest of the files still on
disk: ``--rebuild PATH`` keeps the other indexed files; a deleted, emptied or
heading-only file leaves Chroma, BM25 and the catalog; merged cards lose only the
removed file's sources; and the counts printed are the real differences.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from coach.cli import app
from coach.config import Settings, get_settings
from coach.corpus.catalog import Catalog, load_corpus
from coach.corpus.parser import make_splitter, parse_text
from coach.index.bm25 import BM25Index
from coach.index.ingest import EMPTY, GONE, KEPT, ingest
from coach.index.retriever import HybridSearcher
from coach.index.store import open_collection, stored_hashes

from .conftest import MODELS_DIR

# Tests that ingest need the e5 model and a real Chroma store.
slow = pytest.mark.slow
integration = pytest.mark.integration


def _card(number: int, title: str, points: list[tuple[str, str]]) -> str:
    lines = "\n".join(f"{i}. **{label}：** {text}" for i, (label, text) in enumerate(points, 1))
    return f"## {number}. {title}\n\n**题目：** {title}\n\n**答案：**\n\n{lines}\n"


CLIPPING = "什么是梯度裁剪？"
KEEP = "\n".join(
    [
        _card(1, CLIPPING, [("裁剪范数（Gradient Clipping）", "梯度范数超过阈值时按比例缩小。")]),
        _card(2, "为什么要做学习率预热？", [("预热（Warmup）", "训练初期用小学习率，避免发散。")]),
    ]
)
# drop.md sorts before keep.md, so in the merged clipping card its source comes first
# and its card id is the merged card's id: removing it must re-merge, not just trim.
DROP = "\n".join(
    [
        _card(1, CLIPPING, [("防止梯度爆炸", "限制每步更新的大小，训练更稳定。")]),
        _card(2, "什么是知识蒸馏？", [("教师模型（Teacher）", "用大模型的软标签训练小模型。")]),
        "## 关于混合精度\n\n混合精度训练（Mixed Precision）用 FP16 计算、FP32 保存主权重。\n",
    ]
)
DISTILLATION = "什么是知识蒸馏？"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "keep.md").write_text(KEEP, "utf-8")
    (folder / "drop.md").write_text(DROP, "utf-8")
    return folder


def settings_at(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, models_dir_override=MODELS_DIR)


def hashes(settings: Settings) -> dict[str, str]:
    return stored_hashes(open_collection(settings, settings.embedding.model))


def snapshot(settings: Settings) -> dict[str, object]:
    """Everything search reads: Chroma ids and hashes, BM25 records, cards, catalog."""
    return {
        "chroma": hashes(settings),
        "bm25": [r.model_dump() for r in BM25Index.load(settings.paths.bm25_dir).records],
        "corpus": load_corpus(settings.paths.corpus_file).model_dump(),
        "catalog": sorted(Catalog.load(settings.paths.catalog_file).documents),
    }


def fresh(tmp_path: Path, paths: list[Path]) -> dict[str, object]:
    """The snapshot of a first ingest of ``paths`` into a new data dir."""
    settings = settings_at(tmp_path / f"fresh{len(list(tmp_path.glob('fresh*')))}")
    report = ingest(paths, settings)
    assert report.files_failed == []
    return snapshot(settings)


def expected_counts(before: dict[str, str], after: dict[str, str]) -> dict[str, int]:
    common = before.keys() & after.keys()
    updated = sum(before[i] != after[i] for i in common)
    return {
        "added": len(after.keys() - before.keys()),
        "updated": updated,
        "deleted": len(before.keys() - after.keys()),
        "unchanged": len(common) - updated,
    }


def printed_counts(stdout: str) -> dict[str, int]:
    found = re.search(r"(\d+) added, (\d+) updated, (\d+) deleted, (\d+) unchanged", stdout)
    assert found, stdout
    return dict(
        zip(("added", "updated", "deleted", "unchanged"), map(int, found.groups()), strict=True)
    )


def cli(*args: str) -> Result:
    """``coach ingest ARGS`` against the test's data dir (COACH_DATA_DIR, see conftest)."""
    get_settings.cache_clear()
    return CliRunner().invoke(app, ["ingest", *args])


def files_found(settings: Settings, query: str, mode: str) -> set[str]:
    hits = HybridSearcher(settings).search(query, 10, mode=mode)  # type: ignore[arg-type]
    return {file for hit in hits for file in hit.files}


def assert_gone_from_search(settings: Settings, name: str) -> None:
    for mode in ("dense", "bm25", "hybrid"):
        for query in (DISTILLATION, "混合精度 FP16", CLIPPING):
            assert name not in files_found(settings, query, mode), (mode, query)


@slow
@integration
def test_deleted_file_leaves_chroma_bm25_and_catalog(
    docs: Path, settings: Settings, tmp_path: Path
) -> None:
    first = cli(str(docs))
    assert first.exit_code == 0, first.output
    assert "drop.md" in files_found(settings, DISTILLATION, "dense")
    assert "drop.md" in files_found(settings, DISTILLATION, "bm25")
    merged = next(c for c in load_corpus(settings.paths.corpus_file).cards if c.title == CLIPPING)
    assert [s.file for s in merged.sources] == ["drop.md", "keep.md"]
    before = hashes(settings)

    (docs / "drop.md").unlink()
    result = cli(str(docs))
    assert result.exit_code == 0, result.output
    gone = (docs / "drop.md").resolve()
    assert f"Removed {gone} from the index: {GONE}" in result.stdout
    assert printed_counts(result.stdout) == expected_counts(before, hashes(settings))
    assert printed_counts(result.stdout)["deleted"] > 0
    assert "files: 0 parsed, 1 unchanged, 1 removed" in result.stdout

    assert_gone_from_search(settings, "drop.md")
    merged = next(c for c in load_corpus(settings.paths.corpus_file).cards if c.title == CLIPPING)
    assert [s.file for s in merged.sources] == ["keep.md"]
    assert len(merged.references) == 1
    assert snapshot(settings) == fresh(tmp_path, [docs / "keep.md"])

    again = cli(str(docs))
    unchanged = len(hashes(settings))
    assert printed_counts(again.stdout) == dict(added=0, updated=0, deleted=0, unchanged=unchanged)
    assert "Removed" not in again.stdout


@slow
@integration
def test_naming_one_file_keeps_the_others_unless_they_are_gone(
    docs: Path, settings: Settings, tmp_path: Path
) -> None:
    ingest([docs / "keep.md"], settings)
    ingest([docs / "drop.md"], settings)
    both = hashes(settings)
    assert snapshot(settings) == fresh(tmp_path, [docs])  # order of ingests does not matter

    # drop.md is not named, but it is still there: nothing of it goes.
    report = ingest([docs / "keep.md"], settings)
    assert (report.deleted, report.files_removed) == (0, [])
    assert hashes(settings) == both
    assert "drop.md" in files_found(settings, DISTILLATION, "hybrid")

    # Emptying a file that is not named is not seen until it is read again...
    (docs / "drop.md").write_text("", "utf-8")
    assert ingest([docs / "keep.md"], settings).files_removed == []
    # ...but a deleted one is, named or not.
    (docs / "drop.md").unlink()
    result = cli(str(docs / "keep.md"))
    assert result.exit_code == 0, result.output
    assert f"Removed {(docs / 'drop.md').resolve()} from the index: {GONE}" in result.stdout
    assert printed_counts(result.stdout) == expected_counts(both, hashes(settings))
    assert_gone_from_search(settings, "drop.md")
    assert snapshot(settings) == fresh(tmp_path, [docs / "keep.md"])

    # The last file gone too: an empty index, not an error, and not "folder is empty".
    kept = hashes(settings)
    (docs / "keep.md").unlink()
    result = cli(str(docs))
    assert result.exit_code == 0, result.output
    assert printed_counts(result.stdout) == dict(added=0, updated=0, deleted=len(kept), unchanged=0)
    assert hashes(settings) == {} and load_corpus(settings.paths.corpus_file).cards == []
    assert HybridSearcher(settings).search(CLIPPING, 5) == []


@slow
@integration
@pytest.mark.parametrize(
    "text", ["", "  \n\n", "\ufeff", "# 只剩一个标题\n", "## 知识蒸馏\n\n### 教师模型\n"]
)
def test_emptied_or_heading_only_file_leaves_the_index(
    docs: Path, settings: Settings, tmp_path: Path, text: str
) -> None:
    ingest([docs], settings)
    before = hashes(settings)
    (docs / "drop.md").write_text(text, "utf-8")

    # Named directly: it is read, yields nothing, and its cards go (not a failure).
    result = cli(str(docs / "drop.md"))
    assert result.exit_code == 0, result.output
    assert f"Removed {docs / 'drop.md'} from the index: {EMPTY}" in result.stdout
    assert printed_counts(result.stdout) == expected_counts(before, hashes(settings))
    assert "files: 0 parsed, 0 unchanged, 1 removed" in result.stdout
    assert_gone_from_search(settings, "drop.md")
    assert snapshot(settings) == fresh(tmp_path, [docs / "keep.md"])


@slow
@integration
def test_rebuild_with_a_path_keeps_every_other_file(
    docs: Path, settings: Settings, tmp_path: Path
) -> None:
    ingest([docs], settings)
    before = snapshot(settings)

    result = cli("--rebuild", str(docs / "keep.md"))
    assert result.exit_code == 0, result.output
    records = len(before["chroma"])  # type: ignore[arg-type]
    assert printed_counts(result.stdout) == dict(added=0, updated=0, deleted=0, unchanged=records)
    assert f"(rebuild: all {records} re-embedded)" in result.stdout
    assert "files: 2 parsed, 0 unchanged, 0 removed" in result.stdout
    assert snapshot(settings) == before
    assert "drop.md" in files_found(settings, DISTILLATION, "dense")
    assert "drop.md" in files_found(settings, DISTILLATION, "bm25")

    # A rebuild names the known files that are gone and counts their records deleted.
    (docs / "drop.md").unlink()
    result = cli("--rebuild", str(docs / "keep.md"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["files_removed"] == [{"file": str((docs / "drop.md").resolve()), "reason": GONE}]
    after = hashes(settings)
    assert {k: report[k] for k in ("added", "updated", "deleted", "unchanged")} == (
        expected_counts(before["chroma"], after)  # type: ignore[arg-type]
    )
    assert report["embedded"] == report["records"] == len(after)
    assert_gone_from_search(settings, "drop.md")
    assert snapshot(settings) == fresh(tmp_path, [docs / "keep.md"])


@slow
@integration
def test_unreadable_known_file_keeps_its_cards_and_says_so(docs: Path, settings: Settings) -> None:
    ingest([docs], settings)
    before = hashes(settings)
    (docs / "drop.md").write_bytes(b"\x00\xff\x00 not text")
    for args in ([str(docs)], ["--rebuild", str(docs)]):
        result = cli(*args)
        assert result.exit_code == 2, result.output
        assert "binary" in result.stderr and KEPT in result.stderr
        assert printed_counts(result.stdout)["deleted"] == 0
        assert hashes(settings) == before


# --- no model, no store -----------------------------------------------------------------


def test_merged_cards_do_not_depend_on_ingest_order(tmp_path: Path) -> None:
    splitter = make_splitter(600, 80)
    keep = parse_text("keep.md", KEEP, splitter)
    drop = parse_text("drop.md", DROP, splitter)
    one = Catalog(documents={"/x/keep.md": keep, "/x/drop.md": drop}).build(0.72)
    other = Catalog(documents={"/x/drop.md": drop, "/x/keep.md": keep}).build(0.72)
    assert one == other and one.merged_duplicates == 1
    # Two files of one name (in different folders) are ordered by path, not by arrival.
    twin = parse_text("keep.md", KEEP.replace("学习率预热", "权重衰减"), splitter)
    a = Catalog(documents={"/b/keep.md": twin, "/a/keep.md": keep}).build(0.72)
    b = Catalog(documents={"/a/keep.md": keep, "/b/keep.md": twin}).build(0.72)
    assert a == b


def test_bm25_index_of_nothing_searches_to_nothing(tmp_path: Path) -> None:
    BM25Index.build([], []).save(tmp_path / "bm25")
    assert BM25Index.load(tmp_path / "bm25").search("梯度裁剪", 5) == []
