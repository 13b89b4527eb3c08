# Two commands set everything up on a fresh machine with Python 3.11+ and git:
#   make run    install, get the data, run the pipeline, print where the results are
#   make test   install, lint, run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH, else a private copy bootstrapped with pip into .tools/ (no admin rights needed).
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
PYTEST_ARGS ?=

.PHONY: help install run repro lint format test clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/python -m pip install --quiet uv

install: $(UV) ## create .venv from uv.lock (exact versions, no resolution)
	$(UV) sync --frozen --quiet

run: install ## get the data, run the pipeline, print the results
	$(UV) run --frozen dvc pull --allow-missing --quiet
	$(UV) run --frozen dvc repro
	$(UV) run --frozen mlops summary --metrics eval/metrics.json --metadata models/model.json

repro: install ## run only the stages whose inputs changed
	$(UV) run --frozen dvc repro

lint: install ## ruff lint and format check
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: install ## fix what ruff can fix
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

test: lint ## lint, then run the whole test suite
	$(UV) run --frozen pytest $(PYTEST_ARGS)

clean: ## remove the environment and caches (not data, models or results)
	rm -rf .venv .tools .pytest_cache .ruff_cache
