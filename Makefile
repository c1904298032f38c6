# Two commands for a newcomer: `make demo` and `make test`. Both bootstrap .venv themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.datavet-stamp

.PHONY: demo demo-quick test lint setup bench clean

setup: $(STAMP)

# The stamp is keyed on pyproject.toml, constraints.txt and the setup script: a second run with nothing changed installs nothing.
$(STAMP): pyproject.toml constraints.txt tools/setup_venv.sh
	@PYTHON=$(PYTHON) bash tools/setup_venv.sh $(VENV)
	@touch $(STAMP)

demo: $(STAMP)
	@$(PY) -m evalsuite demo

demo-quick: $(STAMP)
	@$(PY) -m evalsuite demo --quick

lint: $(STAMP)
	@$(VENV)/bin/ruff check .

test: $(STAMP) lint
	@bash tools/ensure_chromium.sh || true
	@$(PY) -m pytest -q

# Every benchmark, each writing its section of BENCHMARKS.md (about 30 minutes on 2 cores; run it on a
# quiet machine, or set BENCH_CONDITIONS to say what else was running).
bench: $(STAMP)
	$(PY) bench/near_dup.py --n 1000000 --datasketch-n 20000 --write
	$(PY) bench/curate_run.py --n 1000000 --write
	$(PY) bench/split_bench.py
	$(PY) bench/trainer.py --steps-minilm 20 --steps-smollm2 6
	$(PY) bench/perplexity.py
	$(PY) bench/generation.py
	$(PY) bench/ray_scaling.py --sizes 20000 100000 --scaling-n 40000 --write
	$(PY) bench/bag_codec.py --write

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
