"""The files a batch run writes, checked before anything is read or written.

A run owns four names derived from ``--output``: the output, its HTML report, the resume
journal and the lock. Why refuse early: an input that *is* one of them (a file named
``out.csv.partial.jsonl`` given as input with ``--output out.csv --resume``) would be
cut or deleted as a stale journal; a journal or lock that is a link to another file would
have that file truncated or removed. coach writes only regular files it creates itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from coach.batch.models import BatchError
from coach.config import Settings


@dataclass(frozen=True)
class RunFiles:
    output: Path
    report: Path
    journal: Path
    lock: Path

    @classmethod
    def of(cls, output: Path, settings: Settings) -> RunFiles:
        paths = settings.paths
        return cls(
            output=output,
            report=paths.batch_report(output),
            journal=paths.batch_journal(output),
            lock=paths.batch_lock(output),
        )

    def roles(self) -> list[tuple[str, Path]]:
        return [
            ("the --output", self.output),
            ("the HTML report", self.report),
            ("the resume journal", self.journal),
            ("the lock file", self.lock),
        ]


def _same_file(a: Path, b: Path) -> bool:
    """Same file by name (links followed) or, when both exist, by inode (hard links)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_run_files(input_path: Path, files: RunFiles) -> None:
    """Raise BatchError when the input is one of the run's own files, or when one of
    them is a symbolic link."""
    if _same_file(input_path, files.output):
        raise BatchError(f"--output {files.output} is the input file; choose another name.")
    for role, path in files.roles():
        if _same_file(input_path, path):
            raise BatchError(
                f"The input {input_path} is {role} of this run ({path}): grading would "
                "overwrite or delete it. Copy or rename the input, or choose another "
                "--output; nothing was changed."
            )
    for role, path in files.roles():
        if path.is_symlink():
            raise BatchError(
                f"{role.capitalize()} {path} is a symbolic link. coach writes its output, "
                "journal and lock only as regular files it creates, never through a link "
                "(that would change the file it points to). Remove the link or choose "
                "another --output; nothing was changed."
            )
