#!/usr/bin/env bash
# The interview and batch figures of eval/README.md, on a host with an NVIDIA GPU.
#
#   bash eval/gpu_bench.sh [PACK-OR-MODEL-DIR]    (default: qwen2.5-coder-1.5b)
#
# Run from the repository root after `make install` (the app's venv and the e5 pack).
# It installs vLLM's GPU build into its own venv (COACH_DATA_DIR/vllm-venv-cuda), serves
# the model on the GPU, prints `coach bench serve`, `coach bench interview` with 1, 2 and
# 4 candidates at once, and `coach bench grade`, and stops the server. A model directory
# is any Hugging Face model directory (config.json + weights), e.g. a 7B instruct model.
set -euo pipefail
MODEL="${1:-qwen2.5-coder-1.5b}"
COACH="${COACH:-.venv/bin/coach}"
OUT="${OUT:-reports/gpu-bench-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
export COACH_VLLM_DEVICE=cuda COACH_PROGRESS=lines

nvidia-smi -L | tee "$OUT/gpu.txt"
"$COACH" model install-server
if [ -d "$MODEL" ]; then
  export COACH_LLM_MODEL="$(basename "$MODEL")"
else
  export COACH_MODEL_PACK="$MODEL"
fi

if [ ! -d "$MODEL" ]; then  # bench serve measures packs
  echo "== serving: start-up, memory, prefill and decode (its own server)"
  "$COACH" bench serve "$MODEL" --concurrency 8 --json | tee "$OUT/serve.json"
fi

"$COACH" serve-model "$MODEL" --detach
trap '"$COACH" serve-model --stop || true' EXIT

echo "== interview: 1, 2 and 4 candidates at once"
"$COACH" bench interview --turns 4 --users 1 --users 2 --users 4 | tee "$OUT/interview.txt"

echo "== batch grading: without the LLM, then with it (scorer mode)"
"$COACH" bench grade --limit 50 | tee "$OUT/grade.txt"

echo "figures in $OUT"
