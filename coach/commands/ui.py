"""``coach ui``: the web app (mock interviews, batch grading, question bank, history)."""

from __future__ import annotations

from typing import Annotated

import typer

from coach.config import get_settings


def ui(
    host: Annotated[str | None, typer.Option(help="Default: COACH_UI_HOST (127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Default: COACH_UI_PORT (7860).")] = None,
) -> None:
    """Start the web UI and print its URL. Ctrl-C stops it."""
    from coach.ui.server import launch

    settings = get_settings()
    if (settings.ui_username is None) != (settings.ui_password is None):
        typer.secho(
            "Set both COACH_UI_USERNAME and COACH_UI_PASSWORD to require a login; "
            "starting without one.",
            fg=typer.colors.YELLOW,
            err=True,
        )
    app, url = launch(settings, host=host, port=port)
    typer.echo(f"coach UI: {url}")
    try:
        app.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
