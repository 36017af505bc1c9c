"""Start the app on a host and port from settings, with optional login."""

from __future__ import annotations

from typing import Any

from coach.config import Settings


def launch(
    settings: Settings,
    *,
    services: Any = None,
    host: str | None = None,
    port: int | None = None,
    block: bool = True,
) -> tuple[Any, str]:
    """Build and start the app; returns (app, local URL). ``block=False`` returns at
    once (tests, benchmarks) and the caller closes it with ``app.close()``."""
    from coach.ui.app import build_app

    app = build_app(settings, services)
    auth = None
    if settings.ui_username and settings.ui_password:
        auth = (settings.ui_username, settings.ui_password.get_secret_value())
    app.queue(default_concurrency_limit=None)
    app.launch(
        server_name=host or settings.ui_host,
        server_port=port if port is not None else settings.ui_port,
        auth=auth,
        prevent_thread_lock=True,
        quiet=True,
        show_error=True,
        inbrowser=False,
        allowed_paths=[str(settings.data_dir / "reports"), str(settings.data_dir / "batch")],
    )
    return app, str(app.local_url)
