"""``python -m coach.cli`` keeps working now that the CLI is a package."""

from __future__ import annotations

from coach.cli import app

app()
