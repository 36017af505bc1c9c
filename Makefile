# The two commands a new user needs: `make demo` and `make test`.
# Everything is installed into .venv with pip (pip finds this machine's CPU build of
# torch; uv/poetry would download a multi-GB CUDA build instead).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install demo test test-fast lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)
	$(BIN)/coach model install e5-small-multilingual

demo: install
	$(BIN)/coach ingest
	$(BIN)/coach search "模型在测试集上效果差怎么办"

# The whole suite, slow integration tests included (real embedding model, real Chroma
# store and server). pytest's exit code 5 (no tests collected) counts as a failure.
test: install
	$(BIN)/python -m pytest -v; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check coach tests

clean:
	rm -rf $(VENV) .pytest_cache
