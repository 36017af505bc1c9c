"""What this machine's CPU can do, read once, for choices made per machine.

Why: bfloat16 halves the cost of the encoder's and the model server's matrix products
only where the CPU has bf16 instructions (AVX512-BF16, AMX); elsewhere PyTorch emulates
them and bf16 runs slower than float32. The choice must follow the machine the coach
runs on, not the one it was developed on.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
"""Linux cpuinfo flags of native bf16 matrix instructions (x86)."""


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags; empty where /proc/cpuinfo is missing (macOS, Windows)."""
    try:
        text = CPUINFO.read_text("utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags") and ":" in line:
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_has_bf16() -> bool:
    return bool(BF16_FLAGS & cpu_flags())


def resolve_cpu_dtype(wanted: str) -> str:
    """``auto`` -> ``bfloat16`` where the CPU computes it natively, else ``float32``;
    an explicit dtype is kept."""
    if wanted != "auto":
        return wanted
    return "bfloat16" if cpu_has_bf16() else "float32"


NVIDIA_SMI_TIMEOUT_S = 10.0


@lru_cache(maxsize=1)
def cuda_gpus() -> tuple[str, ...]:
    """The NVIDIA GPUs ``nvidia-smi -L`` lists (empty without the driver or a GPU)."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return ()
    try:
        listed = subprocess.run(
            [tool, "-L"], capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    if listed.returncode != 0:
        return ()
    return tuple(line.strip() for line in listed.stdout.splitlines() if line.startswith("GPU"))


def resolve_device(wanted: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; explicit choices kept."""
    if wanted != "auto":
        return wanted
    return "cuda" if cuda_gpus() else "cpu"
