"""Start, watch and stop a local vLLM OpenAI-compatible server.

Why it looks like this: vLLM (in its own venv, see ``vllm_env``) forks an engine process
and a worker process. The server is started as the leader of a new process group, so one
``killpg`` reaches all of them: SIGTERM first, SIGKILL after ``vllm_stop_timeout``. A
plain ``kill`` of the API process left the worker running in an earlier experiment.
While it runs, ``<data_dir>/vllm/server.json`` records pid, port and model, so another
shell (or ``make``) can find it, reuse it, or stop it; its output goes to
``<data_dir>/vllm/server.log``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import httpx
from pydantic import BaseModel
from tqdm.auto import tqdm

from coach.config import Settings
from coach.hardware import cpu_has_bf16, resolve_cpu_dtype
from coach.llm.vllm_env import ensure_vllm_env, on_gpu
from coach.packs.base import PACKS, PackError, Progress, install
from coach.progress import progress_bar

LOG_TAIL_LINES = 25


class ServerError(RuntimeError):
    """The server could not be started or stopped; the message says what to do."""


class ServerState(BaseModel):
    """What ``server.json`` records about a running server."""

    pid: int
    host: str
    port: int
    model: str
    model_dir: str
    log: str
    started: str

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"


# ------------------------------------------------------------------------- resolving


def resolve_model(name_or_path: str, settings: Settings, progress: Progress) -> tuple[Path, str]:
    """(model directory, served name) for a pack name or a local HF model directory.

    A pack is installed first when it is not yet (which creates the vLLM venv too).
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise PackError(f"{path} has no config.json; give a Hugging Face model directory")
        return path.resolve(), path.name
    pack = PACKS.get(name_or_path)
    if pack is None or pack.kind != "llm":
        known = ", ".join(sorted(p.name for p in PACKS.values() if p.kind == "llm"))
        raise PackError(f"{name_or_path!r} is neither an LLM pack ({known}) nor a model directory")
    return install(pack, settings.paths.models_dir, progress), pack.name


def default_port(settings: Settings) -> int:
    """``vllm_port``, else the port of ``llm_base_url``, so the client finds the server."""
    if settings.vllm.port:
        return settings.vllm.port
    return urlparse(settings.llm.base_url).port or 8000


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (for tests and benchmarks)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


# ------------------------------------------------------------------------- the process


def server_dtype(settings: Settings) -> str:
    """The dtype passed to vLLM (see ``vllm_dtype``): on a CPU chosen from its flags, on
    a GPU vLLM's own ``auto``."""
    if on_gpu(settings):
        return settings.vllm.dtype
    return resolve_cpu_dtype(settings.vllm.dtype)


def server_command(
    python: Path, model_dir: Path, served: str, settings: Settings, port: int
) -> list[str]:
    cmd = [
        str(python), "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(model_dir),
        "--served-model-name", served,
        "--host", settings.vllm.host,
        "--port", str(port),
        "--dtype", server_dtype(settings),
        "--max-model-len", str(settings.vllm.max_model_len),
    ]  # fmt: skip
    if on_gpu(settings):  # CUDA graphs and compilation pay off there; no CPU workarounds
        cmd += ["--gpu-memory-utilization", f"{settings.vllm.gpu_memory_utilization:g}"]
        if settings.vllm.structured_outputs_config:
            cmd += ["--structured-outputs-config", settings.vllm.structured_outputs_config]
        return cmd + list(settings.vllm.extra_args)
    if settings.vllm.enforce_eager:
        cmd.append("--enforce-eager")
    if settings.vllm.compilation_config:
        cmd += ["--compilation-config", settings.vllm.compilation_config]
    if settings.vllm.structured_outputs_config:
        cmd += ["--structured-outputs-config", settings.vllm.structured_outputs_config]
    return cmd + list(settings.vllm.extra_args)


def server_env(settings: Settings) -> dict[str, str]:
    env = {
        **os.environ,
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    if on_gpu(settings):
        return env
    env["VLLM_CPU_KVCACHE_SPACE"] = f"{settings.vllm.kvcache_gib:g}"
    if settings.vllm.omp_threads_bind:
        env["VLLM_CPU_OMP_THREADS_BIND"] = settings.vllm.omp_threads_bind
    if settings.vllm.reserved_cpus is not None:
        env["VLLM_CPU_NUM_OF_RESERVED_CPU"] = str(settings.vllm.reserved_cpus)
    return env


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def group_alive(pgid: int) -> bool:
    """True while any process of the group exists (zombies of ours count until reaped)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(pgid: int, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    """SIGTERM the process group, SIGKILL what is left after ``timeout``; True if it was
    stopped cleanly (no SIGKILL needed)."""
    if not group_alive(pgid):
        return True
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None:
            proc.poll()  # reap our own child so it stops counting as alive
        if not group_alive(pgid):
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    if proc is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    return False


def is_ready(base_url: str, model: str, timeout: float = 2.0) -> bool:
    """The server answers /health and lists ``model`` in /v1/models."""
    root = base_url.rstrip("/").removesuffix("/v1")
    try:
        if httpx.get(f"{root}/health", timeout=timeout).status_code != 200:
            return False
        data = httpx.get(f"{root}/v1/models", timeout=timeout).json().get("data", [])
    except (httpx.HTTPError, ValueError):
        return False
    return any(m.get("id") == model for m in data)


# ---------------------------------------------------------------------------- state


def read_state(settings: Settings) -> ServerState | None:
    """The recorded server if its process still exists; a stale record is removed."""
    path = settings.paths.vllm_state_file
    try:
        state = ServerState.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not group_alive(state.pid):
        path.unlink(missing_ok=True)
        return None
    return state


# --------------------------------------------------------------------------- server


class VLLMServer:
    """One vLLM server process group. Use as a context manager, or start()/stop().

    ``record=True`` writes ``server.json`` so other processes can find and stop it;
    tests and benchmarks use ``record=False`` and their own log file.
    """

    def __init__(
        self,
        settings: Settings,
        model: str,
        *,
        port: int | None = None,
        log_path: Path | None = None,
        record: bool = True,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings
        self.model_ref = model
        self.port = port or default_port(settings)
        self.host = settings.vllm.host
        self.log_path = log_path or settings.paths.vllm_log
        self.record = record
        self.say = progress or (lambda msg: tqdm.write(f"[serve] {msg}"))
        self.proc: subprocess.Popen | None = None
        self.model = ""
        self.model_dir: Path | None = None
        self.startup_seconds: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self, wait: bool = True) -> VLLMServer:
        python = ensure_vllm_env(self.settings, self.say)
        self.model_dir, self.model = resolve_model(self.model_ref, self.settings, self.say)
        if port_in_use(self.host, self.port):
            raise ServerError(
                f"port {self.port} on {self.host} is already in use; stop what listens there "
                f"(`coach serve-model --stop` if it is an earlier server) or pick another "
                f"with --port / COACH_VLLM_PORT"
            )
        cmd = server_command(python, self.model_dir, self.model, self.settings, self.port)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        with open(self.log_path, "ab") as log:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            log.write(f"\n=== {stamp} {' '.join(cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=server_env(self.settings),
                start_new_session=True,  # its own process group: one killpg stops all
            )
        dtype = server_dtype(self.settings)
        why = ""
        if on_gpu(self.settings):
            why = " on the GPU"
        elif self.settings.vllm.dtype == "auto":
            why = " (the CPU has bf16 instructions)" if cpu_has_bf16() else " (no bf16 on this CPU)"
        self.say(
            f"started vLLM (pid {self.proc.pid}) for {self.model} on {self.base_url}, "
            f"dtype {dtype}{why}; log: {self.log_path}"
        )
        if self.record:
            self._write_state()
        if wait:
            try:
                self.wait_ready()
            except BaseException:
                self.stop()
                raise
            if self.settings.vllm.warmup:
                self.warm_up()
            self.startup_seconds = round(time.perf_counter() - started, 1)
            self.say(f"vLLM is ready after {self.startup_seconds:.0f} s")
        return self

    def wait_ready(self) -> None:
        """Poll until the server lists the model; show elapsed time and the log's last
        line. Raises ServerError with the log tail if it dies or times out."""
        assert self.proc is not None
        deadline = time.monotonic() + self.settings.vllm.start_timeout
        bar_format = "{desc} {elapsed} {postfix}"
        with progress_bar(
            desc="waiting for vLLM", bar_format=bar_format, leave=False, settings=self.settings
        ) as bar:
            while True:
                code = self.proc.poll()
                if code is not None:
                    raise ServerError(
                        f"vLLM exited with code {code} before it was ready. Last lines of "
                        f"{self.log_path}:\n{log_tail(self.log_path)}"
                    )
                if is_ready(self.base_url, self.model, self.settings.llm.health_timeout):
                    return
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"vLLM did not answer within {self.settings.vllm.start_timeout:.0f} s "
                        f"(COACH_VLLM_START_TIMEOUT). Last lines of {self.log_path}:\n"
                        f"{log_tail(self.log_path)}"
                    )
                last = log_tail(self.log_path, 1)
                bar.set_postfix_str(last[-70:])
                bar.update()
                time.sleep(self.settings.vllm.poll_interval)

    def warm_up(self) -> None:
        """The request shapes the coach sends, once each, before anyone waits on them.
        A failure is only reported: the server is up, the first real request pays."""
        from coach.llm.warmup import warm_up

        for line in warm_up(self.base_url, self.model, self.settings):
            self.say(line)

    def stop(self) -> bool:
        """Stop the whole process group; True when SIGTERM sufficed."""
        if self.proc is None:
            return True
        clean = stop_group(self.proc.pid, self.settings.vllm.stop_timeout, self.proc)
        if self.record:
            state = read_state(self.settings)
            if state is None or state.pid == self.proc.pid:
                self.settings.paths.vllm_state_file.unlink(missing_ok=True)
        self.proc = None
        return clean

    def _write_state(self) -> None:
        assert self.proc is not None and self.model_dir is not None
        state = ServerState(
            pid=self.proc.pid,
            host=self.host,
            port=self.port,
            model=self.model,
            model_dir=str(self.model_dir),
            log=str(self.log_path),
            started=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        path = self.settings.paths.vllm_state_file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(state.model_dump_json(indent=2) + "\n", encoding="utf-8")

    def __enter__(self) -> VLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_recorded(settings: Settings) -> ServerState | None:
    """Stop the server ``server.json`` records (started earlier, maybe by another
    process); return its record, or None when nothing is running."""
    state = read_state(settings)
    if state is None:
        return None
    stop_group(state.pid, settings.vllm.stop_timeout)
    settings.paths.vllm_state_file.unlink(missing_ok=True)
    return state


def describe(state: ServerState) -> dict[str, object]:
    return json.loads(state.model_dump_json()) | {"base_url": state.base_url}
