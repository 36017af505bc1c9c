"""The UI's exposure guard (issue 14): a host other machines can reach needs a login or an
explicit, loudly warned opt-out; HTTPS settings reach Gradio; and, on the real server,
reports and batch results are not served without the login when one is set."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from coach.config import Settings, get_settings
from coach.ui.server import ExposureError, check_exposure, is_loopback, launch

SECRET = "SECRET-ANSWER-7f3a"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.1.1", "localhost", "::1", "[::1]"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.20", "10.0.0.5", "myhost"])
def test_hosts_the_network_can_reach(host: str) -> None:
    assert not is_loopback(host)


def test_open_host_without_login_is_refused_with_what_to_do(settings: Settings) -> None:
    with pytest.raises(ExposureError) as info:
        check_exposure(settings, "0.0.0.0", 7860)
    message = str(info.value)
    for needed in (
        "0.0.0.0:7860",
        "COACH_UI_USERNAME",
        "COACH_UI_PASSWORD",
        "COACH_UI_SSL_CERTFILE",
        "COACH_UI_SSL_KEYFILE",
        "--allow-no-login",
        "COACH_UI_ALLOW_OPEN",
        "--host 127.0.0.1",
    ):
        assert needed in message


def test_half_a_login_is_no_login(settings: Settings) -> None:
    half = settings.model_copy(update={"ui_username": "alice"})
    with pytest.raises(ExposureError, match="only COACH_UI_USERNAME is set"):
        check_exposure(half, "0.0.0.0")
    assert check_exposure(half, "127.0.0.1") == [
        ("notice", "Starting without a login (only COACH_UI_USERNAME is set: a login needs both).")
    ]


def test_explicit_opt_out_gives_a_loud_warning(settings: Settings) -> None:
    notes = check_exposure(settings.model_copy(update={"ui_allow_open": True}), "0.0.0.0")
    levels = [level for level, _ in notes]
    assert levels[0] == "warning" and "WITHOUT A LOGIN" in notes[0][1]


def test_login_over_plain_http_is_allowed_with_a_notice(settings: Settings) -> None:
    secured = settings.model_copy(
        update={"ui_username": "alice", "ui_password": SecretStr("s3cret")}
    )
    notes = check_exposure(secured, "0.0.0.0")
    assert [level for level, _ in notes] == ["notice"]
    assert "clear text" in notes[0][1]
    assert check_exposure(secured, "127.0.0.1") == []


def test_https_settings_are_checked(settings: Settings, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    with pytest.raises(
        ExposureError, match="COACH_UI_SSL_CERTFILE is set but COACH_UI_SSL_KEYFILE"
    ):
        check_exposure(settings.model_copy(update={"ui_ssl_certfile": cert}), "127.0.0.1")
    both = settings.model_copy(
        update={
            "ui_ssl_certfile": cert,
            "ui_ssl_keyfile": key,
            "ui_username": "alice",
            "ui_password": SecretStr("s3cret"),
        }
    )
    with pytest.raises(ExposureError, match="no such file"):
        check_exposure(both, "0.0.0.0")
    cert.write_text("x")
    key.write_text("x")
    assert check_exposure(both, "0.0.0.0") == [], "login and HTTPS: nothing to say"


def test_launch_refuses_before_building_the_app(settings: Settings) -> None:
    with pytest.raises(ExposureError):
        launch(settings, host="0.0.0.0", port=free_port(), block=False)


class _FakeApp:
    closed = False

    def block_thread(self) -> None:
        return None

    def close(self) -> None:
        _FakeApp.closed = True


@pytest.fixture
def fake_launch(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Records the launch instead of starting Gradio (the CLI's own logic is tested)."""
    calls: list[dict] = []

    def fake(settings: Settings, **kwargs: object) -> tuple[_FakeApp, str]:
        calls.append({"settings": settings, **kwargs})
        return _FakeApp(), "http://0.0.0.0:7860/"

    monkeypatch.setattr("coach.ui.server.launch", fake)
    return calls


def test_cli_refuses_an_open_host_without_login(fake_launch: list[dict]) -> None:
    from coach.cli import app

    result = CliRunner().invoke(app, ["ui", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "Refusing to start the UI on 0.0.0.0" in result.output
    assert "COACH_UI_PASSWORD" in result.output and "--allow-no-login" in result.output
    assert fake_launch == []


def test_cli_opens_with_the_flag_or_the_setting_and_warns(
    fake_launch: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    from coach.cli import app

    result = CliRunner().invoke(app, ["ui", "--host", "0.0.0.0", "--allow-no-login"])
    assert result.exit_code == 0, result.output
    assert "WITHOUT A LOGIN" in result.output and "coach UI: http://" in result.output
    monkeypatch.setenv("COACH_UI_ALLOW_OPEN", "1")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["ui", "--host", "0.0.0.0"])
    assert result.exit_code == 0 and "WITHOUT A LOGIN" in result.output
    assert len(fake_launch) == 2


def test_cli_opens_with_a_login(fake_launch: list[dict], monkeypatch: pytest.MonkeyPatch) -> None:
    from coach.cli import app

    monkeypatch.setenv("COACH_UI_USERNAME", "alice")
    monkeypatch.setenv("COACH_UI_PASSWORD", "s3cret")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["ui", "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    assert "WITHOUT A LOGIN" not in result.output and "clear text" in result.output
    assert fake_launch[0]["host"] == "0.0.0.0"


# --- the real server ---------------------------------------------------------------------


@pytest.fixture
def files(settings: Settings) -> list[Path]:
    """A report and a batch result like the app writes them."""
    report = settings.paths.data_dir / "reports" / "interview-20250101-1200-abcdef12.md"
    result = settings.paths.data_dir / "batch" / "0123456789ab" / "answers.graded.csv"
    for path, text in ((report, f"# report\n{SECRET}\n"), (result, f"id,answer\n1,{SECRET}\n")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return [report, result]


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    secured = settings.model_copy(
        update={"ui_username": "alice", "ui_password": SecretStr("s3cret")}
    )
    app, url = launch(secured, port=free_port(), block=False)
    try:
        yield url
    finally:
        app.close()


def _file_urls(url: str, path: Path) -> list[str]:
    """Every route a Gradio version has served files from."""
    return [
        f"{url}gradio_api/file={path}",
        f"{url}gradio_api/file/{path}",
        f"{url}file={path}",
        f"{url}file/{path}",
    ]


@pytest.mark.slow
def test_files_need_the_login(server: str, files: list[Path]) -> None:
    with httpx.Client(timeout=30, follow_redirects=True) as anonymous:
        for path in files:
            for file_url in _file_urls(server, path):
                for method in ("GET", "HEAD"):
                    response = anonymous.request(method, file_url)
                    # 405: HEAD on a GET-only route, refused as well
                    assert response.status_code in (401, 403, 404, 405), (method, file_url)
                    assert SECRET not in response.text
    with httpx.Client(base_url=server, timeout=30) as user:
        wrong = user.post("login", data={"username": "alice", "password": "nope"})
        assert wrong.status_code in (400, 401, 403)
        assert SECRET not in user.get(f"gradio_api/file={files[0]}").text
        response = user.post("login", data={"username": "alice", "password": "s3cret"})
        assert response.status_code == 200, response.text
        for path in files:
            got = user.get(f"gradio_api/file={path}")
            assert got.status_code == 200 and SECRET in got.text, "logged in, files work"


@pytest.mark.slow
def test_https_is_served_with_the_configured_certificate(
    settings: Settings, tmp_path: Path
) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (needed to make a test certificate)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key)]
        + ["-out", str(cert), "-days", "1", "-subj", "/CN=localhost"],
        check=True,
        capture_output=True,
    )
    secured = settings.model_copy(
        update={
            "ui_username": "alice",
            "ui_password": SecretStr("s3cret"),
            "ui_ssl_certfile": cert,
            "ui_ssl_keyfile": key,
        }
    )
    app, url = launch(secured, port=free_port(), block=False)
    try:
        assert url.startswith("https://")
        response = httpx.get(f"{url}gradio_api/login_check", verify=False, timeout=30)
        assert response.status_code == 401, "HTTPS is up and still asks for the login"
    finally:
        app.close()
