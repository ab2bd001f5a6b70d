# sitegen — the two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo serve test lint bench mutate clean

install: $(STAMP)

# torch is pinned first: 2.13.0 CPU is the wheel pip finds on these machines; an open range
# would let pip pull a multi-GB CUDA build when sentence-transformers asks for torch.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[dev,build]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sitegen check example_library --strict
	$(BIN)/sitegen build example_library --out site
	$(BIN)/sitegen match "review my terraform plan" --library example_library
	@echo "site built in site/ -- open site/index.html, or run 'make serve' for semantic search"

serve: $(STAMP)
	$(BIN)/sitegen build example_library --out site --api-url api/match
	$(BIN)/sitegen serve example_library --site site --port 8000

lint: $(STAMP)
	$(BIN)/ruff check sitegen tests benchmarks mutation
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/pip install -q -e ".[bench]"
	$(BIN)/python -m benchmarks

# Mutation testing of the modules that matter most (mutation/targets.py); slow: run it on its
# own, e.g. `make mutate MODULES="search cli"`. Scores per module; survivors in .mutation/.
mutate: $(STAMP)
	$(BIN)/pip install -q -e ".[mutate]"
	$(BIN)/python -m mutation $(if $(SAMPLE),--sample $(SAMPLE)) $(MODULES)

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache
