# Two commands set everything up on a fresh machine with Python 3.11+ and git:
#   make run    install, get the data, run the pipeline, print where the results are
#   make test   install, lint, run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH, else a private copy bootstrapped with pip into .tools/ (no admin rights needed).
# The workflows' setup-uv steps install the same UV_VERSION (tests/workflows checks they agree).
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
PYTEST_ARGS ?=

.PHONY: help install run repro undo lint format test test-fast test-generated coverage clean bento bento-requirements serve report pr-pointers drift-data drift ship-log image register check-promotion promote

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/python -m pip install --quiet uv==$(UV_VERSION)

# After a branch switch, DVC's own git hook (`dvc git-hook post-checkout`, as `dvc install` sets it up)
# runs `dvc checkout`, so models/ and data/ hold the branch's versions, not the last branch's. The
# hook calls .venv/bin/dvc, so it works from a shell without the environment; a post-checkout hook of
# your own is left alone (install prints the line to add to it).
HOOK_MARK := installed by make install: dvc checkout after a branch switch
# EXTRAS: pyproject's optional extras installed beside the main dependencies. None for the everyday
# loop (make run, make serve): installing dask slows every process that loads a model
# (docs/performance.md). `cluster` (Dask, for `mlops drift --scheduler`, docs/scale.md) for lint and
# the tests, which check that path, and for the drift targets when MLOPS_DASK_SCHEDULER names a
# cluster (only whether it is set is read: `$(value ...)`, as for the values below). A target's value
# holds for the targets it depends on, install among them; `uv run` keeps what install added (it
# removes nothing unless given --exact), and so does install itself (--inexact): `make test` runs
# targets such as `make promote` in this checkout while its Dask tests run, so a sync must never
# take the extra away. A fresh .venv has no Dask until a target that needs it installs it; `uv sync
# --frozen` by hand removes it.
EXTRAS ?=
lint test test-fast test-generated coverage: EXTRAS := cluster
drift-data drift: EXTRAS := $(if $(value MLOPS_DASK_SCHEDULER),cluster)
install: $(UV) ## create .venv from uv.lock (exact versions, no resolution; EXTRAS=cluster adds Dask); the git hook for branch switches
	@echo "==> .venv from uv.lock$(if $(strip $(EXTRAS)), with the extras: $(strip $(EXTRAS)))"
	@$(UV) sync --frozen --inexact --quiet $(addprefix --extra ,$(EXTRAS))
	@[ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$$(pwd -P)" ] || exit 0; \
	hook="$$(git rev-parse --git-path hooks/post-checkout)"; \
	if [ ! -e "$$hook" ] || grep -qF "$(HOOK_MARK)" "$$hook"; then \
		mkdir -p "$$(dirname "$$hook")"; \
		printf '#!/bin/sh\n# %s\n[ -x .venv/bin/dvc ] || exit 0\nexec .venv/bin/dvc git-hook post-checkout "$$@"\n' \
			"$(HOOK_MARK)" > "$$hook" && chmod +x "$$hook"; \
	else \
		echo "make install: $$hook is your own; add '.venv/bin/dvc git-hook post-checkout \"\$$@\"' to it," \
			"so that switching branches switches models/ too"; \
	fi

run: install ## get the data, run the pipeline, print the results and what to commit
	@echo "==> data and cached outputs from the DVC remote (dvc pull)"
	@$(UV) run --frozen dvc pull --allow-missing --quiet
	@echo "==> the pipeline (dvc repro): each stage says when it runs or is skipped"
	@$(UV) run --frozen dvc repro
	@$(UV) run --frozen mlops summary

repro: install ## run only the stages whose inputs changed
	@$(UV) run --frozen dvc repro

# `mlops results` lists what a commit of results holds (from dvc.yaml): dvc.lock, eval, models.
undo: install ## put the last commit's results back (dvc.lock, eval/, models/); your edits to params, schema, code stay
	@results="$$($(UV) run --frozen mlops results)" && git restore --source=HEAD --staged --worktree -- $$results
	@$(UV) run --frozen dvc checkout --force --quiet
	@echo "==> the last commit's results, with the model they describe"
	@$(UV) run --frozen mlops summary

lint: install ## ruff lint and format check, mypy on src/ and scripts/ (with the cluster extra)
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy
	$(if $(wildcard scripts/*.py),$(UV) run --frozen mypy $(wildcard scripts/*.py))

format: install ## fix what ruff can fix
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

# The suite runs in PYTEST_WORKERS pytest-xdist processes (auto: one per core; 0: in this process);
# a test file's tests stay on one worker (tests/conftest.py says what the workers share).
# Python may cache compiled bytecode while testing, even where PYTHONDONTWRITEBYTECODE is set
# (tests/conftest.py says why).
PYTEST_WORKERS ?= auto
XDIST = $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)
test test-fast test-generated coverage: export PYTHONDONTWRITEBYTECODE :=
SUITE = $(UV) run --frozen pytest $(XDIST) --ignore=tests/template
test: lint ## lint, then the project's whole test suite (with the cluster extra)
	$(SUITE) $(PYTEST_ARGS)

# Coverage traces every line the in-process tests run: about three quarters more CPU for them, and
# nothing it reports can fail the suite, so `make test` (and CI) runs without it.
coverage: lint ## make test with a coverage report of src/mlops (slower; CI does not run it)
	$(SUITE) --cov --cov-report=term $(PYTEST_ARGS)

FAST_TESTS := tests/unit tests/data tests/model tests/service tests/report $(wildcard tests/docs)
test-fast: install ## the quick loop: unit, data, model, in-process service, report tests, docs markers (no servers; with the cluster extra)
	$(UV) run --frozen pytest $(XDIST) -m "not slow" $(FAST_TESTS) $(PYTEST_ARGS)

# The template's own tests (tests/template, which `copier copy` leaves out of new projects): projects
# generated on other tables (binary, multi-class, regression, a 200-level text column), their
# pipelines, services and drift checks, their own whole `make test`, and `copier update`.
# CI (.ci/run) runs it after `make test`.
test-generated: install ## projects generated from the template on other data work and pass their own tests
	@if [ -d tests/template ]; then $(UV) run --frozen pytest $(XDIST) tests/template $(PYTEST_ARGS); \
	else echo "make test-generated: no tests/template here (a project made from the template)"; fi

# Paths come from dvc.yaml (the `mlops` commands read it); BASE defaults to origin/main, else main.
# A value the caller supplies (BASE here; LOG, IMAGE, TAG, GITOPS_REPO below) is data, never code:
# `$(value ...)` keeps it as typed (make expands nothing in it) and `export` hands it to the recipe's
# environment, where the shell reads it quoted ("$$BASE"), never as part of the command line.
BASE ?=
report: override export BASE := $(value BASE)
report: install ## compare results with BASE (default origin/main, else main): report/, quality gate
	$(UV) run --frozen mlops report $(if $(BASE),--base "$$BASE")

# pr.yml's `data` job (docs/pull-requests.md#data-and-credentials): it runs the base commit's code
# with cloud credentials and reads the pull request's DVC pointers as data. HEAD_DIR is a checkout of
# the pull request's head; its tracked dvc.yaml, dvc.lock, params.yaml and *.dvc files, regular files
# only (a symlink could point DVC at a file outside the checkout), are copied here; HEAD_DIR is then
# removed, so nothing else of the pull request is left beside the base commit's code.
HEAD_DIR ?=
pr-pointers: override export HEAD_DIR := $(value HEAD_DIR)
pr-pointers: ## copy a pull request checkout's DVC pointers (HEAD_DIR=folder) here, as data; remove HEAD_DIR
	@test -n "$$HEAD_DIR" && git -C "$$HEAD_DIR" rev-parse --git-dir >/dev/null 2>&1 \
		|| { echo "make pr-pointers: HEAD_DIR='$$HEAD_DIR' is not a git checkout" >&2; exit 2; }
	@case "$(CURDIR)/" in "$$(realpath "$$HEAD_DIR")/"*) \
		echo "make pr-pointers: HEAD_DIR='$$HEAD_DIR' holds this checkout: refused" >&2; exit 2;; esac
	@cd "$$HEAD_DIR" && mapfile -d '' files < <(git ls-files -z -- dvc.yaml dvc.lock params.yaml '*.dvc') && \
	for file in "$${files[@]}"; do \
		[[ -f $$file && ! -L $$file ]] || \
			{ echo "make pr-pointers: $$HEAD_DIR/$$file is not a regular file: refused" >&2; exit 2; }; \
	done && \
	for file in "$${files[@]}"; do cp --parents -- "$$file" "$(CURDIR)" && echo "copied $$file"; done
	rm -rf -- "$$HEAD_DIR"

drift-data: install ## get the drift reference (prepare stage output) and the production batches; Dask too when MLOPS_DASK_SCHEDULER is set
	@echo "==> production batches and the training split (dvc pull, dvc repro prepare)"
	@$(UV) run --frozen dvc pull --allow-missing --quiet
	@$(UV) run --frozen dvc repro --quiet prepare

# Exit status: 1 when a batch drifted, else 3 when a batch was too small to judge, else 0.
drift: drift-data ## drift check of each batch in production/ against the training split; prints verdicts
	@shopt -s nullglob; batches=(production/*.csv production/*.parquet); status=0; \
	if [ $${#batches[@]} -eq 0 ]; then \
		echo "make drift: no batches in production/ (*.csv, *.parquet): nothing to check."; \
		echo "  Add production batches (dvc add production), or run 'mlops drift --current <inference-log>'"; \
		echo "  (docs/drift.md)."; \
		exit 0; \
	fi; \
	for batch in "$${batches[@]}"; do \
		name=$$(basename $$batch); out=drift/$${name%.*}; mkdir -p $$out; \
		$(UV) run --frozen mlops drift --current $$batch --out $$out 2>$$out/drift.log; \
		code=$$?; \
		case $$code in 0) verdict="no drift";; 1) verdict="DRIFT"; status=1;; \
			3) verdict="insufficient data"; [ $$status -eq 1 ] || status=3;; \
			*) cat $$out/drift.log; exit $$code;; esac; \
		echo "$$batch: $$verdict (exit $$code): $$out/drift.md $$out/drift.html"; \
	done; \
	exit $$status

# Monitoring data (docs/drift.md): the inference log's closed files to the DVC remote as a new
# version of production/ (commits production.dvc; PUSH=1 also pushes the commit).
LOG ?= inference-log
ship-log: override export LOG := $(value LOG)
ship-log: install ## ship the inference log's closed files (LOG=folder) as a new version of production/
	$(UV) run --frozen mlops ship-log --log "$$LOG" $(if $(PUSH),--push)

BENTO_BUILD := build
HOST ?= 127.0.0.1
PORT ?= 3000
# The serving requirements, pinned from uv.lock with their hashes (the image installs them with
# pip --require-hashes: a wheel whose hash uv.lock does not list is refused).
bento-requirements: ## export the serving requirements, with hashes, to build/requirements.txt
	@mkdir -p $(BENTO_BUILD)
	$(UV) export --frozen --only-group serving --no-emit-project --quiet \
		--output-file $(BENTO_BUILD)/requirements.txt

bento: install bento-requirements ## build the bento offline (serving requirements pinned from uv.lock, model inside); tag in build/bento-tag
	@test -f models/model.skops || { echo "models/model.skops is missing: run 'make run' first" >&2; exit 1; }
	PATH="$$(cd "$$(dirname "$$(command -v $(UV))")" && pwd):$$PATH" $(UV) run --frozen bentoml build --output tag \
		--label model_version=$$($(UV) run --frozen python -c \
			'import json; print(json.load(open("models/model.json"))["model_version"])') \
		--label revision=$$(git rev-parse HEAD 2>/dev/null || echo unknown) . \
		| sed -n 's/^__tag__://p' > $(BENTO_BUILD)/bento-tag
	@echo "built bento $$(cat $(BENTO_BUILD)/bento-tag)"

serve: install ## serve the bento from `make bento` on http://$(HOST):$(PORT)
	@test -s $(BENTO_BUILD)/bento-tag || { echo "no bento built yet: run 'make bento' first" >&2; exit 1; }
	MLOPS_INFERENCE_LOG_DIR=$${MLOPS_INFERENCE_LOG_DIR-$(CURDIR)/inference-log} \
		$(UV) run --frozen bentoml serve $$(cat $(BENTO_BUILD)/bento-tag) --host $(HOST) --port $(PORT)

# The container image, built with podman from the Dockerfile the bento carries (deploy/Dockerfile,
# the one release.yml builds), on a Debian base made with mmdebstrap when podman's store lacks it
# (mlops image).
IMAGE_NAME ?= localhost/model-service
image: bento ## build the image from the bento with podman; its reference in build/image-ref
	rm -f $(BENTO_BUILD)/image-labels.new
	$(UV) run --frozen mlops image-labels --revision "$$(git rev-parse HEAD)" --format lines \
		--output $(BENTO_BUILD)/image-labels.new
	mv $(BENTO_BUILD)/image-labels.new $(BENTO_BUILD)/image-labels
	$(UV) run --frozen mlops image --bento \
		"$$($(UV) run --frozen python -c 'import bentoml, sys; print(bentoml.get(sys.argv[1]).path)' \
		"$$(cat $(BENTO_BUILD)/bento-tag)")" \
		--name $(IMAGE_NAME) --ref-file $(BENTO_BUILD)/image-ref --labels $(BENTO_BUILD)/image-labels

# GitOps with GTO (mlops gitops, docs/serving.md): the registry is git tags in GITOPS_REPO.
# The tag and the image come from git and the workflows' events: data, as above, and checked by
# mlops gitops against GTO's tag grammar and name@sha256:<64 hex> before anything else.
# check-promotion and promote write stage=, version=, branch= to GITHUB_OUTPUT when it is set.
GITOPS_REPO ?= .
register check-promotion promote: override export GITOPS_REPO := $(value GITOPS_REPO)
register: override export IMAGE := $(value IMAGE)
check-promotion promote: override export TAG := $(value TAG)
check-promotion promote: override export GITHUB_OUTPUT := $(value GITHUB_OUTPUT)
register: install ## register HEAD as the next model version with IMAGE (name@sha256:...); PUSH=1 pushes the tag
	$(UV) run --frozen mlops gitops --repo "$$GITOPS_REPO" register --image "$$IMAGE" $(if $(PUSH),--push)

check-promotion: install ## the stage and version the GTO stage tag TAG names, or why it cannot be promoted
	$(UV) run --frozen mlops gitops --repo "$$GITOPS_REPO" check --tag "$$TAG"

promote: install ## commit the overlay change the GTO stage tag TAG asks for on promote/<stage>/<version>; PUSH=1 pushes
	$(UV) run --frozen mlops gitops --repo "$$GITOPS_REPO" promote --tag "$$TAG" $(if $(PUSH),--push)

# The release's push (release.yml's image job; mlops.ci.push_image on the runner's Python, standard
# library and skopeo only, no project environment): the registry is asked first, and tags that exist
# are never pushed again (their digest is reported). SOURCE and REFS are data, as TAG above.
.PHONY: push-image
push-image: override export SOURCE := $(value SOURCE)
push-image: override export REFS := $(value REFS)
push-image: ## push the image SOURCE (a skopeo reference) to each of REFS unless they exist; digest on stdout
	PYTHONPATH=src python3 -m mlops.ci.push_image "$$SOURCE" "$$REFS"

# The repository's protection on GitHub, applied with gh from the files that define it (mlops.github_settings,
# docs/pull-requests.md "Repository settings"); a second run changes nothing. GH_REPO is data, as TAG above.
.PHONY: github-settings
github-settings: override export GH_REPO := $(value GH_REPO)
github-settings: install ## apply the release environment and rulesets to GitHub repository GH_REPO=owner/name (admin token)
	$(UV) run --frozen python -m mlops.github_settings --repo "$$GH_REPO"

.PHONY: card-check
card-check: install ## fail, naming each field, while project.yaml's model card holds placeholders (release.yml)
	@$(UV) run --frozen mlops card --check

clean: ## remove the environment and caches (not data, models or results)
	rm -rf .venv .tools .pytest_cache .ruff_cache .mypy_cache .coverage

# The workflows' steps that talk to git or GitHub: pr.yml runs the first two; pr-comment.yml and
# drift.yml run the modules of src/mlops/ci (python3 -m mlops.ci.NAME, standard library only).
# tests/github/ runs all of them, gh included, against a fake GitHub API on 127.0.0.1.
.PHONY: lock-check pr-number test-github

lock-check: install ## fail, saying what to commit, when `dvc repro` changed the committed results
	@$(UV) run --frozen mlops results --check

pr-number: ## write the environment's PR_NUMBER to report/pr-number, for the comment workflow
	@[[ "$$PR_NUMBER" =~ ^[0-9]+$$ ]] || { echo "make pr-number: PR_NUMBER must be digits, got '$$PR_NUMBER'" >&2; exit 1; }
	@mkdir -p report && printf '%s\n' "$$PR_NUMBER" > report/pr-number

test-github: install ## only the tests of posting to GitHub (comment, check run, drift issue) with gh, CML and a fake API
	$(UV) run --frozen pytest tests/github $(PYTEST_ARGS)
