# CREW developer targets. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-workspace
DEMO_PORT ?= 8642

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,spark,deep,text]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install crew with its dev tools, Spark and PyTorch (CPU)

fmt: $(STAMP) ## Format the code and apply safe lint fixes
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

lint: $(STAMP) ## ruff, format check, import layers and mypy --strict
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

typecheck: $(STAMP) ## mypy --strict on src/
	$(BIN)/mypy

browser: ## Install Debian's Chromium and CJK fonts for the report/dashboard browser tests (root)
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
		apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1 || \
		echo "Chromium not installed: the browser tests will be skipped (see README)"; }

test: $(STAMP) browser ## Run the whole suite (integration and slow tests included)
	$(BIN)/pytest -q

test-fast: $(STAMP) ## Unit tests only, for the edit loop
	$(BIN)/pytest -q -m "not slow and not postgres"

bench: $(STAMP) ## Benchmarks, printed as ratios against baselines measured in the same run
	$(BIN)/python bench/run.py

demo: $(STAMP) ## Simulate demo data, compute indicators, train, score, replay warnings, backtest, report, serve the dashboard and stream the last two weeks into it
	rm -rf $(DEMO_DIR)
	$(BIN)/crew simulate --customers 5000 --months 18 --industry ecommerce --seed 7 \
		--workspace $(DEMO_DIR) --import --hold-out 14d
	$(BIN)/crew --workspace $(DEMO_DIR) status
	$(BIN)/crew --workspace $(DEMO_DIR) text analyze
	$(BIN)/crew --workspace $(DEMO_DIR) indicators compute --as-of 2025-06-17
	$(BIN)/crew --workspace $(DEMO_DIR) train --as-of 2025-01-01 --horizon 90d
	$(BIN)/crew --workspace $(DEMO_DIR) score --as-of 2025-06-17 --top 10
	$(BIN)/crew --workspace $(DEMO_DIR) run --from 2025-04-06 --to 2025-06-15 --every 7d
	$(BIN)/crew --workspace $(DEMO_DIR) alerts list --level high --limit 10
	$(BIN)/crew --workspace $(DEMO_DIR) backtest --from 2024-12-29 --to 2025-03-16 --every 7d \
		--horizon 90d --report $(DEMO_DIR)/report.html
	@# Demo logins only: a real workspace gets its users from 'crew users add NAME --role R'.
	printf 'demo\n' | $(BIN)/crew --workspace $(DEMO_DIR) users add demo --role analyst --password-stdin
	printf 'admin\n' | $(BIN)/crew --workspace $(DEMO_DIR) users add admin --role admin --password-stdin
	@echo "Dashboard: http://127.0.0.1:$(DEMO_PORT)/  log in as demo / demo (analyst) or admin / admin (admin); Ctrl+C stops."
	@echo "The last two weeks of the demo data stream in over about 6 minutes: warnings appear live."
	token=$$($(BIN)/crew --workspace $(DEMO_DIR) tokens create demo-feed --scope ingest --json \
		| $(BIN)/python -c 'import json, sys; print(json.load(sys.stdin)["secret"])'); \
	$(BIN)/crew --workspace $(DEMO_DIR) serve --port $(DEMO_PORT) & server=$$!; \
	trap 'kill $$server 2>/dev/null' INT TERM EXIT; \
	$(BIN)/crew replay $(DEMO_DIR)/simulated-live --url http://127.0.0.1:$(DEMO_PORT) \
		--token "$$token" --speed 3600; \
	wait $$server

serve: $(STAMP) ## Serve the dashboard and REST API on the demo workspace (make demo first; docs at /docs)
	$(BIN)/crew --workspace $(DEMO_DIR) serve

clean: ## Remove the virtual environment, caches and the demo workspace
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache

.PHONY: help install browser fmt lint typecheck test test-fast bench demo serve docs clean

docs: $(STAMP) ## Regenerate docs/cli.md from the commands' --help
	$(BIN)/python -m crew.cli.reference > docs/cli.md
