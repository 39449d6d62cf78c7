# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-output
export PPCOPT_DATABASE_URL ?= sqlite:///$(CURDIR)/$(DEMO_DIR)/ppcopt.db

.PHONY: demo test lock lint typecheck pytest browser bench fuzz serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs come from the locks only (exact versions, hashes checked); the project itself is then
# built with the locked setuptools, without build isolation, so nothing is fetched outside them.
$(VENV)/.installed: pyproject.toml requirements/runtime.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/runtime.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements/dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.installed

# Re-resolve the locks from pyproject's ranges (newest versions inside them), with hashes.
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" --quiet
lock: $(VENV)/.installed-dev
	$(BIN)/uv pip compile pyproject.toml requirements/build.in $(LOCK_FLAGS) --upgrade -o requirements/runtime.lock
	$(BIN)/uv pip compile pyproject.toml requirements/build.in --extra dev $(LOCK_FLAGS) --upgrade -o requirements/dev.lock

demo: $(VENV)/.installed
	bash scripts/demo.sh "$(BIN)" "$(DEMO_DIR)"

PY_DIRS := optimizer api jobs cli tests bench clients/python

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)
	$(BIN)/lint-imports --no-cache

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy optimizer api jobs cli clients/python

# pytest exits 5 when it collected nothing: treat an empty suite as a failure, not a pass.
pytest: $(VENV)/.installed-dev
	@rc=0; $(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

# The dashboard's and the report's browser tests drive Debian's Chromium (no browser download), and
# the report's PDF is checked with poppler's pdftoppm; install them when missing.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/pdftoppm ]; then \
		echo "installing Debian's chromium and poppler-utils for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core poppler-utils >/dev/null \
			|| { echo "could not install chromium / poppler-utils: the browser tests will skip (fail under PPCOPT_REQUIRE_BROWSER=1)" >&2; }; \
	fi

test: lint typecheck browser pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

# A longer schemathesis run than the bounded one in `make test`.
fuzz: $(VENV)/.installed-dev
	PPCOPT_FUZZ_EXAMPLES=$${PPCOPT_FUZZ_EXAMPLES:-200} $(BIN)/python -m pytest -p no:cacheprovider -q -n 2 tests/api/test_fuzz.py

serve: $(VENV)/.installed
	$(BIN)/ppcopt serve

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
