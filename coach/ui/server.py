"""Start the app on a host and port from settings, with optional login and HTTPS.

Why a guard on the host: the app serves interview history, every report and every batch
result (with the candidates' answers) and spends LLM time for whoever opens it. On the
loopback address only this machine can; on any other address (0.0.0.0, a LAN IP, a host
name) so can the network, so starting there without a login is refused unless the user
says so explicitly (``--allow-no-login`` / ``COACH_UI_ALLOW_OPEN``), and then loudly.

Files (reports, batch results) are served by Gradio at ``/gradio_api/file=PATH``; with a
login set, Gradio's ``login_check`` protects that route (verified for the installed
Gradio by tests/test_ui_security.py, which starts the real server).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal

from coach.config import Settings

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

Level = Literal["warning", "notice"]


class ExposureError(RuntimeError):
    """The UI would be reachable from the network without a login, or its HTTPS
    settings are incomplete; the message says what to set."""


def is_loopback(host: str) -> bool:
    """Only this machine can connect: localhost, 127.0.0.0/8, ::1. An empty name, a
    wildcard (0.0.0.0, ::), a LAN address or any other host name is not."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def login(settings: Settings) -> tuple[str, str] | None:
    if settings.ui.username and settings.ui.password:
        return settings.ui.username, settings.ui.password.get_secret_value()
    return None


def ssl_files(settings: Settings) -> tuple[Path, Path] | None:
    """(certificate, key) for HTTPS, None for plain HTTP; raises on half a setup."""
    cert, key = settings.ui.ssl_certfile, settings.ui.ssl_keyfile
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        given, missing = (
            ("COACH_UI_SSL_KEYFILE", "COACH_UI_SSL_CERTFILE")
            if cert is None
            else ("COACH_UI_SSL_CERTFILE", "COACH_UI_SSL_KEYFILE")
        )
        raise ExposureError(
            f"HTTPS needs both a certificate and its private key: {given} is set but "
            f"{missing} is not (PEM files, e.g. from Let's Encrypt, or for a test: "
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem "
            "-days 365 -subj /CN=localhost)."
        )
    for name, path in (("COACH_UI_SSL_CERTFILE", cert), ("COACH_UI_SSL_KEYFILE", key)):
        if not path.is_file():
            raise ExposureError(f"{name}={path}: no such file.")
    return cert, key


def _half_login(settings: Settings) -> str:
    if (settings.ui.username is None) == (settings.ui.password is None):
        return ""
    given = "COACH_UI_USERNAME" if settings.ui.username is not None else "COACH_UI_PASSWORD"
    return f" (only {given} is set: a login needs both)"


def check_exposure(
    settings: Settings, host: str | None = None, port: int | None = None
) -> list[tuple[Level, str]]:
    """What to tell the user before starting on ``host``; raises ``ExposureError`` when
    the UI must not start (an open host without a login and without the explicit
    permission, or half an HTTPS setup)."""
    host = settings.ui.host if host is None else host
    port = settings.ui.port if port is None else port
    https = ssl_files(settings) is not None
    notes: list[tuple[Level, str]] = []
    half = _half_login(settings)
    if is_loopback(host):
        if half:
            notes.append(("notice", f"Starting without a login{half}."))
        return notes
    if login(settings) is None:
        if not settings.ui.allow_open:
            raise ExposureError(
                f"Refusing to start the UI on {host}:{port} without a login{half}: any "
                "machine that can reach that address could use the coach and its LLM, "
                "read the interview history and download every report and batch result "
                f"under {settings.paths.data_dir}.\n"
                "  Set a login:   export COACH_UI_USERNAME=<name> "
                "COACH_UI_PASSWORD=<a long random password>\n"
                "                 (or ui_username / ui_password in coach.toml or .env)\n"
                "  Use HTTPS:     without it the password and the session cookie cross the "
                "network in clear text;\n"
                "                 export COACH_UI_SSL_CERTFILE=<cert.pem> "
                "COACH_UI_SSL_KEYFILE=<key.pem>, or put an HTTPS reverse proxy in front\n"
                "  Local only:    coach ui --host 127.0.0.1\n"
                "  Open anyway:   coach ui --allow-no-login (or COACH_UI_ALLOW_OPEN=1), "
                "on a network you trust"
            )
        notes.append(
            (
                "warning",
                f"WARNING: the UI is listening on {host}:{port} WITHOUT A LOGIN "
                "(--allow-no-login / COACH_UI_ALLOW_OPEN). Anyone who can reach this "
                "address can use the coach and its LLM, read the interview history and "
                f"download every report and batch result under {settings.paths.data_dir}. "
                "Set COACH_UI_USERNAME and COACH_UI_PASSWORD to require a login.",
            )
        )
    if not https:
        notes.append(
            (
                "notice",
                f"The UI on {host}:{port} uses plain HTTP: the login and the session "
                "cookie cross the network in clear text. Set COACH_UI_SSL_CERTFILE and "
                "COACH_UI_SSL_KEYFILE (PEM files) or put an HTTPS reverse proxy in front.",
            )
        )
    return notes


def launch(
    settings: Settings,
    *,
    services: Any = None,
    host: str | None = None,
    port: int | None = None,
    block: bool = True,
) -> tuple[Any, str]:
    """Build and start the app; returns (app, local URL). ``block=False`` returns at
    once (tests, benchmarks) and the caller closes it with ``app.close()``.

    Raises ``ExposureError`` before building anything when ``check_exposure`` refuses
    the host (so a script cannot open the UI to the network by accident either)."""
    from coach.ui.app import build_app
    from coach.ui.files import served_dirs

    host = settings.ui.host if host is None else host
    check_exposure(settings, host, port)
    https = ssl_files(settings)
    app = build_app(settings, services)
    app.queue(default_concurrency_limit=None)
    app.launch(
        server_name=host,
        server_port=port if port is not None else settings.ui.port,
        auth=login(settings),
        prevent_thread_lock=True,
        quiet=True,
        show_error=True,
        inbrowser=False,
        allowed_paths=served_dirs(settings),
        # a larger upload is stopped while it arrives, before anything is copied
        max_file_size=settings.ui.max_upload_bytes,
        ssl_certfile=str(https[0]) if https else None,
        ssl_keyfile=str(https[1]) if https else None,
        # Gradio only uses this for its start-up request to itself on localhost, which
        # a certificate issued for the public name (or self-signed) would fail.
        ssl_verify=https is None,
    )
    return app, str(app.local_url)
