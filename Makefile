# Every target sets itself up: a fresh machine needs only Python 3.11 and make.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

LOCK   := requirements.lock

.PHONY: install chat run test test-fast eval bench lint fuzz flows lock clean

# The runtime dependencies at the versions of $(LOCK) (as in the Docker image); the dev tools
# within pyproject's ranges.
$(STAMP): pyproject.toml $(LOCK)
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c $(LOCK) -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

chat: $(STAMP)
	$(BIN)/yibao chat $(ARGS)

run: $(STAMP)
	$(BIN)/yibao run $(ARGS)

test: $(STAMP)
	$(BIN)/yibao kb check --quiet
	$(BIN)/python -m pytest -q -p no:cacheprovider $(ARGS)

# The inner loop: the core logic (engine, flows, rules, understanding, matcher), no servers.
FAST_TESTS = tests/dialogs/test_engine.py tests/dialogs/test_understanding.py \
	tests/dialogs/test_slots.py tests/dialogs/flows/test_flows_tianjin.py \
	tests/dialogs/flows/test_flows_suzhou.py tests/dialogs/flows/test_flows_property.py \
	tests/dialogs/flows/test_flows_conversations.py tests/dialogs/rules \
	tests/dialogs/stores/test_records.py tests/knowledge/test_matcher.py \
	tests/knowledge/test_normalize.py tests/knowledge/test_lexicon.py tests/test_layering.py

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(FAST_TESTS) $(ARGS)

eval: $(STAMP)
	$(BIN)/yibao eval tests/conversations/*.yaml $(wildcard ../shared/eval/*.yaml)

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

fuzz: $(STAMP)
	YIBAO_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz.py

flows: $(STAMP)
	$(BIN)/yibao flows --mermaid --out docs/flows

lint: $(STAMP)
	$(BIN)/ruff check bot dialogs knowledge tests
	$(BIN)/mypy

# Pin every runtime dependency (and theirs) from pyproject.toml into $(LOCK), with pip-tools.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q pip-tools
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links --output-file=$(LOCK) pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
