"""Where the UI writes: interview reports and batch work folders.

Why one module: the server must allow Gradio to serve exactly these folders, the tabs
write into them, and the batch logic (``coach.ui.batch``) and the app both need the
upload helpers; keeping them here also keeps those modules from importing each other.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from coach.config import Settings


def served_dirs(settings: Settings) -> list[str]:
    """The folders Gradio may serve files from (and nothing else under data_dir)."""
    paths = settings.paths
    return [
        str(paths.interview_reports_dir),
        str(paths.batch_work_root),
        str(paths.speech_cache_dir),
    ]


def copy_upload(path: Path, folder: Path) -> Path:
    """Uploaded files live in Gradio's temp dir; batch grading works on its own copy."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    shutil.copyfile(path, target)
    return target
