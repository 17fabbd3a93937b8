# Everything runs in a virtual environment this Makefile makes for itself (.venv),
# so nothing depends on what happens to be installed on the machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: $(STAMP) browser
	$(BIN)/ruff check autograd nn tests examples benchmarks
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest

# The HTML graph page is tested in a real headless Chromium, Debian's package. As root with apt-get
# (CI, a fresh machine) it is installed here; elsewhere the browser tests say why they skip.
browser:
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } \
	      || echo "Chromium could not be installed from Debian's packages: browser tests will skip"; \
	  else echo "Chromium is not installed and cannot be (needs root and apt-get): browser tests will skip"; fi; }

lint: $(STAMP)
	$(BIN)/ruff check autograd nn tests examples benchmarks
	$(BIN)/ruff format --check autograd nn tests examples benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
