"""Where the UI writes: interview reports and batch work folders.

Why one module: the server must allow Gradio to serve exactly these folders, the tabs
write into them, and the batch logic (``coach.ui.batch``) and the app both need the
upload helpers; keeping them here also keeps those modules from importing each other.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from coach.config import Settings


def reports_dir(settings: Settings) -> Path:
    """Interview reports (Markdown and HTML), served for download."""
    return settings.data_dir / "reports"


def batch_dir(settings: Settings) -> Path:
    """Batch uploads and their results, one work folder per run, served for download."""
    return settings.data_dir / "batch"


def served_dirs(settings: Settings) -> list[str]:
    """The folders Gradio may serve files from (and nothing else under data_dir)."""
    return [str(reports_dir(settings)), str(batch_dir(settings))]


def copy_upload(path: Path, folder: Path) -> Path:
    """Uploaded files live in Gradio's temp dir; batch grading works on its own copy."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    shutil.copyfile(path, target)
    return target


def new_work_dir(settings: Settings) -> Path:
    """A fresh folder per batch run, so two uploads of the same name never collide."""
    return batch_dir(settings) / uuid.uuid4().hex[:12]
