"""The web UI."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr

from coach.config.section import Section


class UiSettings(Section):
    """The Gradio web UI (coach/ui)."""

    env_prefix: ClassVar[str] = "COACH_UI_"

    host: str = "127.0.0.1"
    """Where ``coach ui`` listens; 0.0.0.0 exposes it to the network (set a password)."""
    port: int = Field(default=7860, ge=0, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    """With both set, the UI asks for them (Gradio's login page)."""
    warm_up: bool = True
    """``coach ui`` loads the cards, the search index and the grader's models in the
    background as it starts, so the first question and grade do not wait for them."""
    allow_open: bool = False
    """Let ``coach ui`` listen on a non-loopback host without a login (``--allow-no-login``
    does the same). Off by default: anyone who can reach the port could use the coach and
    its LLM, read the history and download every report and batch result."""
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    """With both set, the UI serves HTTPS (PEM files); over plain HTTP the password and
    the session cookie cross the network in clear text."""
    language: Literal["zh", "en"] = "zh"
    search_k: int = Field(default=10, ge=1, le=100)
    max_upload_bytes: int = Field(default=500_000_000, ge=1)
    """Largest upload (a file, or all files of one upload together, a .zip unpacked
    included); Gradio stops a larger one while it arrives, before anything is copied.
    A batch table in it still has COACH_BATCH_MAX_INPUT_BYTES; the rest is recordings."""
    max_upload_files: int = Field(default=2_000, ge=1)
    """Files one batch upload (or its .zip) may hold: a table and its recordings."""
    batch_poll_seconds: float = 0.5
    """How often the batch tab re-reads the journal to show progress."""
