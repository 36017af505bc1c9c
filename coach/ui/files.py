"""Where the UI writes: interview reports and batch work folders, and how an upload
gets there.

Why one module: the server must allow Gradio to serve exactly these folders, the tabs
write into them, and the batch logic (``coach.ui.batch``) and the app both need the
upload helpers; keeping them here also keeps those modules from importing each other.

An upload is the user's only way into the server's disk, so it is received with care:
sizes are checked before anything is copied (Gradio itself stops a file over
``COACH_UI_MAX_UPLOAD_BYTES`` while it arrives), a .zip is unpacked only after its
members' names and sizes are checked, the batch reads recordings only from the folder the
upload was put in, and every copy is removed when the batch ends, whatever the end.
Messages name files as the user named them, never by their place on the server.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path, PurePosixPath

from coach.config import Settings

TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".xlsx")
RECORDING_SUFFIXES = (".wav", ".mp3", ".m4a", ".ogg", ".oga", ".opus", ".webm", ".flac")
"""What the batch tab's upload accepts besides tables and .zip (the recordings)."""
UPLOAD_FOLDER = "upload"
"""Below a batch's work folder: the uploaded table and recordings, removed at the end."""


class UploadError(ValueError):
    """The upload cannot be graded; the message says why, without server paths."""


def served_dirs(settings: Settings) -> list[str]:
    """The folders Gradio may serve files from (and nothing else under data_dir)."""
    paths = settings.paths
    return [
        str(paths.interview_reports_dir),
        str(paths.batch_work_root),
        str(paths.speech_cache_dir),
    ]


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.0f} MB"


def receive_batch_upload(uploads: list[Path], work: Path, settings: Settings) -> Path:
    """Copy (or unpack) one upload into ``work/upload`` and return the table in it.

    The upload is a table alone, a table with its recordings selected together, or one
    .zip holding both. Raises UploadError, having copied nothing, when a file is gone,
    too large, or when there is not exactly one table."""
    present = [p for p in uploads if p.is_file()]
    if len(present) < len(uploads) or not present:
        raise UploadError("The uploaded file is no longer on the server; upload it again.")
    sizes = {p: p.stat().st_size for p in present}
    total = sum(sizes.values())
    if total > settings.ui.max_upload_bytes:
        raise UploadError(
            f"The upload is {_mb(total)}, over the limit of {_mb(settings.ui.max_upload_bytes)} "
            "(COACH_UI_MAX_UPLOAD_BYTES); split it."
        )
    if len(present) > settings.ui.max_upload_files:
        raise UploadError(
            f"The upload has {len(present)} files, over the limit of "
            f"{settings.ui.max_upload_files} (COACH_UI_MAX_UPLOAD_FILES)."
        )
    folder = work / UPLOAD_FOLDER
    if len(present) == 1 and present[0].suffix.lower() == ".zip":
        return _unzip(present[0], folder, settings)
    tables = [p for p in present if p.suffix.lower() in TABLE_SUFFIXES]
    table = _one_table([p.name for p in tables])
    _check_table_size(table, sizes[tables[[p.name for p in tables].index(table)]], settings)
    folder.mkdir(parents=True, exist_ok=True)
    for path in present:
        shutil.copyfile(path, folder / path.name)
    return folder / table


def _one_table(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    if not names:
        raise UploadError(
            "The upload has no table (.csv, .tsv, .jsonl or .xlsx); upload the table of "
            "answers, with its recordings or as one .zip."
        )
    raise UploadError(f"The upload has {len(names)} tables ({', '.join(names)}); upload one.")


def _check_table_size(name: str, size: int, settings: Settings) -> None:
    limit = settings.batch.max_input_bytes
    if size > limit:
        raise UploadError(
            f"{name} is {_mb(size)}, over the limit of {_mb(limit)} for a batch table "
            "(COACH_BATCH_MAX_INPUT_BYTES); split it into smaller files."
        )


def _unzip(archive: Path, folder: Path, settings: Settings) -> Path:
    """Unpack after checking every member: a plain relative name (no ``..``, no absolute
    path, no link), at most ``max_upload_files`` of them, and at most
    ``max_upload_bytes`` unpacked (a small .zip can unpack to gigabytes)."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = [m for m in bundle.infolist() if not m.is_dir()]
            if len(members) > settings.ui.max_upload_files:
                raise UploadError(
                    f"{archive.name} holds {len(members)} files, over the limit of "
                    f"{settings.ui.max_upload_files} (COACH_UI_MAX_UPLOAD_FILES)."
                )
            unpacked = sum(m.file_size for m in members)
            if unpacked > settings.ui.max_upload_bytes:
                raise UploadError(
                    f"{archive.name} unpacks to {_mb(unpacked)}, over the limit of "
                    f"{_mb(settings.ui.max_upload_bytes)} (COACH_UI_MAX_UPLOAD_BYTES)."
                )
            for member in members:
                name = PurePosixPath(member.filename)
                is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
                if name.is_absolute() or ".." in name.parts or is_link or "\\" in member.filename:
                    raise UploadError(
                        f"{archive.name} holds {member.filename!r}, which is not a plain "
                        "file name inside the archive; zip the table and its recordings "
                        "from one folder."
                    )
            tables = [
                m for m in members if PurePosixPath(m.filename).suffix.lower() in TABLE_SUFFIXES
            ]
            table = _one_table([m.filename for m in tables])
            _check_table_size(
                table, next(m.file_size for m in tables if m.filename == table), settings
            )
            folder.mkdir(parents=True, exist_ok=True)
            for member in members:
                bundle.extract(member, folder)
    except zipfile.BadZipFile as exc:
        raise UploadError(f"{archive.name} is not a readable .zip archive ({exc}).") from exc
    return folder / table


def discard_upload(work: Path, uploads: list[Path]) -> None:
    """Remove every copy of the upload: coach's own (``work/upload``) and Gradio's
    temporary files (only those in Gradio's upload folder: a path given by a caller
    elsewhere is the caller's file). The graded output and report stay for download."""
    shutil.rmtree(work / UPLOAD_FOLDER, ignore_errors=True)
    gradio_root = _gradio_upload_root()
    for path in uploads:
        if gradio_root is not None and path.resolve().is_relative_to(gradio_root):
            path.unlink(missing_ok=True)
            parent = path.parent
            if parent != gradio_root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()  # Gradio puts each upload in a folder of its own


def _gradio_upload_root() -> Path | None:
    try:
        from gradio.utils import get_upload_folder
    except ImportError:
        return None
    return Path(get_upload_folder()).resolve()


def public_message(message: str, work: Path, uploads: list[Path]) -> str:
    """``message`` without the server's folders: a file is named as it was uploaded."""
    folders = {work / UPLOAD_FOLDER, work, *(p.parent for p in uploads)}
    for folder in sorted(folders, key=lambda f: len(str(f)), reverse=True):
        for form in {str(folder), str(folder.resolve())}:
            message = message.replace(form + "/", "").replace(form, "")
    return message
