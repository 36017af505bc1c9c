"""User files: encodings, and every way a file can be unusable."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.corpus.loader import CorpusFile, CorpusFileError, expand_paths, read_document

TEXT = "## 1. 什么是过拟合？\n\n**题目：** 什么是过拟合？\n\n**答案：** 训练好，测试差。\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_chinese_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "q.md"
    path.write_bytes(TEXT.encode(encoding))
    assert read_document(path, 10_000) == TEXT


def test_windows_line_endings_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "q.txt"
    path.write_bytes(TEXT.replace("\n", "\r\n").encode())
    assert read_document(path, 10_000) == TEXT


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("q.pdf", b"%PDF-1.7", "unsupported file type .pdf"),
        ("bin.md", b"\x00\x01\x02binary", "looks binary"),
        ("empty.md", b"  \n\n", "is empty"),
        ("big.md", "大".encode() * 100, "over the 200-byte limit"),
    ],
)
def test_unusable_files_say_what_is_wrong(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CorpusFileError) as info:
        read_document(path, 200)
    assert reason in str(info.value)
    assert str(path) in str(info.value)


def test_expand_paths_reports_missing_and_empty_folders(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(TEXT)
    (tmp_path / "docs" / "skip.png").write_bytes(b"png")
    (tmp_path / "nothing").mkdir()
    files, errors = expand_paths([tmp_path / "docs", tmp_path / "nothing", tmp_path / "gone.md"])
    assert files == [CorpusFile(tmp_path / "docs" / "a.md", "a.md")]
    assert [e.reason for e in errors] == [
        "folder holds no .md or .txt files",
        "no such file or folder; check the path",
    ]
