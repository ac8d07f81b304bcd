# Two entry points for a fresh machine (see README):
#   make demo   -> set up .venv (CPU PyTorch) and run the main job
#   make test   -> set up .venv and run lint, type checks and the test suite
#   make test-min -> the test suite in .venv-min, every dependency at its lowest allowed
#                    version (requirements-min.txt); not part of `make test`
PY ?= python3
VENV := .venv
# Where pip finds the CPU build of PyTorch, if not by its own settings (README).
TORCH_INDEX ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The lowest versions pyproject.toml allows, in a venv of their own.
VENV_MIN ?= .venv-min
BIN_MIN := $(VENV_MIN)/bin
STAMP_MIN := $(VENV_MIN)/.installed

.PHONY: setup demo test lint typecheck pytest bench clean setup-min test-min

setup: $(STAMP)

# torch is pinned to the CPU build first, so that nothing later pulls the CUDA wheels.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# The same steps as setup, the versions constrained to requirements-min.txt.
setup-min: $(STAMP_MIN)

$(STAMP_MIN): pyproject.toml requirements-min.txt
	test -x $(BIN_MIN)/python || $(PY) -m venv $(VENV_MIN)
	$(BIN_MIN)/python -m pip install --quiet --upgrade pip
	$(BIN_MIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) torch==2.13.0
	$(BIN_MIN)/python -m pip install --quiet -c requirements-min.txt -e ".[test]"
	touch $(STAMP_MIN)

test-min: setup-min
	$(BIN_MIN)/python -m pytest -q -n 2 --dist loadfile

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
	rm -rf $(VENV) $(VENV_MIN) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
