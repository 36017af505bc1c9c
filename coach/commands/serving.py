"""CLI for local model serving: ``coach serve-model``, ``coach chat``,
``coach model install-server`` and ``coach bench serve`` (thin shells over coach.llm)."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from coach.config import get_settings


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _say(message: str) -> None:
    typer.echo(f"[serve] {message}", err=True)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


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
    from coach.llm.server import ServerError, VLLMServer, describe, read_state, stop_recorded
    from coach.packs.base import PackError

    settings = get_settings()
    if stop:
        state = stop_recorded(settings)
        typer.echo(f"stopped {state.model} (pid {state.pid})" if state else "no server was running")
        return
    if status:
        state = read_state(settings)
        if state is None:
            typer.echo("no server is running")
            raise typer.Exit(1)
        sys.stdout.write(json.dumps(describe(state), indent=2) + "\n")
        return

    model = name or settings.llm_model
    served = Path(model).expanduser().name if Path(model).expanduser().is_dir() else model
    running = read_state(settings)
    if running is not None:
        if running.model == served and (port is None or port == running.port):
            typer.echo(f"already serving {served} at {running.base_url} (pid {running.pid})")
            return
        _fail(
            f"a server for {running.model} is running at {running.base_url} (pid "
            f"{running.pid}); stop it first with `coach serve-model --stop`"
        )
    server = VLLMServer(settings, model, port=port, progress=_say)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        server.start()
    except (PackError, ServerError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; the server was stopped", 130)
    typer.echo(f"serving {server.model} at {server.base_url} (log: {server.log_path})")
    if server.base_url.rstrip("/") != settings.llm_base_url.rstrip("/"):
        typer.echo(f"point coach at it with: export COACH_LLM_BASE_URL={server.base_url}")
    if detach:
        signal.signal(signal.SIGTERM, previous)
        typer.echo("stop it with: coach serve-model --stop")
        return
    typer.echo("Ctrl-C stops it")
    try:
        assert server.proc is not None
        code = server.proc.wait()
        _fail(f"vLLM exited with code {code}; see {server.log_path}")
    except KeyboardInterrupt:
        clean = server.stop()
        typer.echo("stopped" + ("" if clean else " (had to SIGKILL it)"))
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()


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
        _fail(str(exc))
    except (openai.APIConnectionError, openai.APITimeoutError) as exc:
        _fail(unavailable_message(settings, f"{type(exc).__name__}: {exc}"))
    typer.echo(reply.content)


def install_server() -> None:
    """Create the vLLM venv (COACH_VLLM_VENV, default $COACH_DATA_DIR/vllm-venv). Idempotent."""
    from coach.llm.vllm_env import ensure_vllm_env
    from coach.packs.base import PackError

    try:
        python = ensure_vllm_env(get_settings(), _say)
    except PackError as exc:
        _fail(str(exc))
    typer.echo(str(python))


def bench_serve(
    packs: Annotated[
        list[str] | None, typer.Argument(help="LLM packs to measure. Default: smollm2-135m.")
    ] = None,
    max_tokens: Annotated[int, typer.Option(min=1, help="Tokens generated per request.")] = 128,
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in the concurrent batch.")] = 8,
    dtypes: Annotated[
        list[str] | None,
        typer.Option(
            "--dtype",
            help="Serve in this dtype (repeat to compare, e.g. --dtype bfloat16 --dtype "
            "float32). Default: COACH_VLLM_DTYPE.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Per pack and dtype, one at a time: disk, start-up, memory, prefill and decode tok/s
    (one stream and concurrent)."""
    from coach.llm.bench import bench_pack
    from coach.llm.server import ServerError
    from coach.packs.base import PackError

    settings = get_settings()
    results = []
    for name in packs or ["smollm2-135m"]:
        for dtype in dtypes or [None]:
            try:
                result = bench_pack(
                    name,
                    settings,
                    max_tokens=max_tokens,
                    concurrency=concurrency,
                    log_dir=settings.vllm_state_dir,
                    progress=_say,
                    dtype=dtype,
                )
            except (PackError, ServerError) as exc:
                _fail(str(exc))
            results.append(result)
            if not as_json:
                r = result
                typer.echo(
                    f"{r.pack:<20} {r.dtype:<9} disk {r.disk_mb:6.0f} MB  "
                    f"start-up {r.startup_seconds:6.1f} s  memory {r.memory_mb:7.0f} MB  "
                    f"prefill {r.prefill_tok_s:6.1f} tok/s ({r.prefill_tokens} tokens)  "
                    f"decode 1 stream {r.single_stream_tok_s:5.1f} tok/s, {r.concurrency} "
                    f"streams {r.concurrent_tok_s:5.1f} tok/s ({r.concurrent_latency_s:.1f} s)"
                )
    if as_json:
        sys.stdout.write(json.dumps([r.model_dump() for r in results], indent=2) + "\n")
