"""``coach ui``: the web app (mock interviews, batch grading, question bank, history).

A top-level command (this Typer is added to the root without a name); coach.ui and
gradio load only when it runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from coach.cli.checks import require_writable_data_dir
from coach.cli.output import fail, warn
from coach.config import Settings, get_settings

app = typer.Typer()


@app.command("ui")
def ui(
    host: Annotated[str | None, typer.Option(help="Default: COACH_UI_HOST (127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Default: COACH_UI_PORT (7860).")] = None,
    allow_no_login: Annotated[
        bool,
        typer.Option(
            "--allow-no-login",
            help="Start on a non-loopback --host without COACH_UI_USERNAME/PASSWORD "
            "(refused otherwise; prints a warning). Default: COACH_UI_ALLOW_OPEN.",
        ),
    ] = False,
) -> None:
    """Start the web UI and print its URL. Ctrl-C stops it.

    On a host other machines can reach (0.0.0.0, a LAN address) a login is required:
    set COACH_UI_USERNAME and COACH_UI_PASSWORD, and for HTTPS COACH_UI_SSL_CERTFILE and
    COACH_UI_SSL_KEYFILE."""
    from coach.ui.server import ExposureError, check_exposure, launch

    settings = get_settings()
    if allow_no_login:
        settings = settings.model_copy(update={"ui_allow_open": True})
    try:
        notes = check_exposure(settings, host, port)
    except ExposureError as exc:
        fail(str(exc), 2)
    require_writable_data_dir(settings, "start the UI (it writes the history and batch results)")
    for note in _open_history(settings):
        warn(note)
    for level, text in notes:
        if level == "warning":
            bar = "!" * 78
            typer.secho(f"{bar}\n{text}\n{bar}", fg=typer.colors.RED, bold=True, err=True)
        else:
            warn(text)
    web_app, url = launch(settings, host=host, port=port)
    typer.echo(f"coach UI: {url}")
    try:
        web_app.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        web_app.close()


def _open_history(settings: Settings) -> list[str]:
    """Open the history once at start: a file from a newer coach stops the UI here with
    its message (never half-used by an interview); a damaged one is moved aside, said."""
    from coach.store.history import HistoryError, HistoryStore

    try:
        store = HistoryStore.open(settings)
    except HistoryError as exc:
        fail(str(exc))
    return store.take_notices()
