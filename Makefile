# Two entry points for a fresh machine (see README):
#   make demo   -> set up .venv (CPU PyTorch) and run the main job
#   make test   -> set up .venv and run lint, type checks and the test suite
PY ?= python3
VENV := .venv
# Where pip finds the CPU build of PyTorch, if not by its own settings (README).
TORCH_INDEX ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck pytest bench clean

setup: $(STAMP)

# torch is pinned to the CPU build first, so that nothing later pulls the CUDA wheels.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: setup
	$(BIN)/ramancam demo --out ramancam-demo

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

pytest: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

test: lint pytest

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
