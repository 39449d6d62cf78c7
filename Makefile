# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-output
export PPCOPT_DATABASE_URL ?= sqlite:///$(CURDIR)/$(DEMO_DIR)/ppcopt.db

.PHONY: demo test lint typecheck pytest bench serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	bash scripts/demo.sh "$(BIN)" "$(DEMO_DIR)"

PY_DIRS := optimizer api jobs tests bench

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy optimizer api jobs

# pytest exits 5 when it collected nothing: treat an empty suite as a failure, not a pass.
pytest: $(VENV)/.installed-dev
	@rc=0; $(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

test: lint typecheck pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

serve: $(VENV)/.installed
	$(BIN)/ppcopt serve

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
