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
FAST_TRAIN_ARGS ?= --recipe fast
TRAIN_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: help install browser serve train train-fast train-minilm train-mpnet test lint typecheck pytest bench docker-lint clean

help:
	@echo "make serve   install, train the default model if none exists, serve on $(HOST):$(PORT)"
	@echo "make test    install, lint, type-check and run the test suite"
	@echo "make train   train a new model version from labels/ (all-mpnet-base-v2 and the fast MiniLM, averaged; promoted if not worse)"
	@echo "make train-fast  the same with the fast recipe (all-MiniLM-L6-v2, no refit, 2 epochs)"
	@echo "make train-minilm  the same with the earlier default (all-MiniLM-L6-v2, refit)"
	@echo "make train-mpnet  the same with all-mpnet-base-v2 alone (the default before the pair)"
	@echo "make bench   run the benchmarks in bench/ (writes bench/results.md)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "torch==$(TORCH_VERSION)" $(TORCH_PIP_ARGS)
	$(BIN)/pip install --quiet -e ".[dev,distributed,mpnet]"
	touch $@

install: $(VENV)/.installed

# A fresh checkout has no model: train the fast recipe so that the service answers within
# minutes, then train the default recipe in the background; the promotion gate moves current
# to it if it is not worse, and the running service hot-reloads it.
$(MODELS_DIR)/current: | $(VENV)/.installed
	$(BIN)/stance-train --models-dir $(MODELS_DIR) $(FAST_TRAIN_ARGS) $(TRAIN_ARGS)
	nohup $(BIN)/stance-train --models-dir $(MODELS_DIR) --no-progress $(TRAIN_ARGS) \
		> $(MODELS_DIR)/default-training.log 2>&1 &
	@echo "serving the fast model; the default recipe trains in the background:" \
		"$(MODELS_DIR)/default-training.log"

train: install
	$(BIN)/stance-train --models-dir $(MODELS_DIR) $(TRAIN_ARGS)

train-fast: install
	$(BIN)/stance-train --models-dir $(MODELS_DIR) $(FAST_TRAIN_ARGS) $(TRAIN_ARGS)

train-minilm: install
	$(BIN)/stance-train --models-dir $(MODELS_DIR) --recipe minilm $(TRAIN_ARGS)

train-mpnet: install
	$(BIN)/stance-train --models-dir $(MODELS_DIR) --recipe mpnet $(TRAIN_ARGS)

serve: install | $(MODELS_DIR)/current
	STANCE_MODELS_DIR=$(MODELS_DIR) STANCE_HOST=$(HOST) STANCE_PORT=$(PORT) $(BIN)/stance-serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The browser tests drive Debian's chromium: installed here as root where apt is; elsewhere
# tests/browser fails and names the command.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq chromium chromium-driver; \
		else \
			echo "the browser tests need: sudo apt-get install -y chromium chromium-driver"; \
		fi; \
	fi

pytest: install browser
	$(BIN)/pytest

test: lint typecheck pytest

bench: install
	$(BIN)/python -m bench

docker-lint: install
	$(BIN)/hadolint Dockerfile

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
