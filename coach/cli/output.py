"""The one way every ``coach`` command reports errors, notes and JSON.

Why one module: scripts read these streams. An error is always ``Error: ...`` on stderr
with a chosen exit code and never a traceback; notes and warnings go to stderr so a
command's stdout (its figures, or its JSON) stays parseable; JSON is written whole.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import NoReturn

import typer


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``Error: message`` in red on stderr and exit with ``code``."""
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def print_json(data: object, *, indent: int | None = 2, ensure_ascii: bool = False) -> None:
    """Write ``data`` as JSON on stdout. ``ensure_ascii`` stays True where a command has
    always escaped non-ASCII text, so its output does not change."""
    sys.stdout.write(json.dumps(data, ensure_ascii=ensure_ascii, indent=indent) + "\n")


def warn(message: str) -> None:
    """Something the user should see that is not an error: yellow, on stderr."""
    typer.secho(message, fg=typer.colors.YELLOW, err=True)


def print_notes(notes: Iterable[str]) -> None:
    """Each note as ``Note: ...`` on stderr (a JSON result on stdout stays parseable)."""
    for note in notes:
        warn(f"Note: {note}")


def serve_progress(message: str) -> None:
    """Progress of a vLLM install or start-up, on stderr: it takes minutes, and stdout
    carries the result (a path, a URL, figures)."""
    typer.echo(f"[serve] {message}", err=True)
