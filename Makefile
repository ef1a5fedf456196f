# Set-up and everyday commands. Everything bootstraps from python3 + pip: a private uv in .tools/, then the locked
# environment in .venv/ (uv.lock is committed, so every machine gets the same versions).
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
# Ray workers start with this interpreter, not through `uv run` from a copied folder (where .tools/bin/uv is absent).
export RAY_ENABLE_UV_RUN_RUNTIME_ENV := 0

DEMO_OUT ?= out/demo

.PHONY: demo test lint bench env clean browser

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-groups
	touch $@

env: .venv/.synced

## The main job on the embedded default: a small synthetic corpus.
demo: env
	$(UV) run --frozen --no-sync backdrop demo --out $(DEMO_OUT)

## Headless Chromium from Debian's packages, for the leaderboard's browser test (installed once, as root, where
## /usr/bin/chromium is missing; playwright drives it from the environment and downloads no browser).
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver

browser: $(CHROMIUM)

## The whole test suite (what CI runs): lint, formatting, the import contracts (pyproject.toml), then pytest.
test: lint browser
	$(UV) run --frozen --no-sync pytest

lint: env
	$(UV) run --frozen --no-sync ruff check .
	$(UV) run --frozen --no-sync ruff format --check .
	$(UV) run --frozen --no-sync lint-imports

## Benchmark reports into reports/: every script in jobs/bench/ with its default arguments (each report names the
## command that made it). A script is a module with a `__main__` guard; helpers there (report.py) have none.
BENCH_SCRIPTS := $(sort $(basename $(notdir $(shell grep -l '^if __name__ == "__main__":' jobs/bench/*.py))))

bench: env
	@set -e; for script in $(BENCH_SCRIPTS); do \
		echo "== python -m jobs.bench.$$script"; \
		$(UV) run --frozen --no-sync python -m jobs.bench.$$script; \
	done

clean:
	rm -rf .venv .tools out .pytest_cache .ruff_cache
