# skelgen — the two commands of the quick start, plus checks and benchmarks.
VENV := .venv
PY := $(VENV)/bin/python
CLANG ?= clang-19
BUILD := build

.PHONY: setup demo test lint bench clean

setup:
	@scripts/setup.sh

$(BUILD)/minimal/minimal_skel.py: examples/minimal/minimal.bpf.c | setup
	@mkdir -p $(@D)
	$(VENV)/bin/skelgen compile --clang $(CLANG) $< -o $@

demo: setup $(BUILD)/minimal/minimal_skel.py
	PYTHONPATH=$(BUILD)/minimal $(PY) examples/minimal/app.py

test: setup
	$(VENV)/bin/pytest -q

lint: setup
	$(VENV)/bin/mypy runtime/skelgen_runtime skelgen
	$(VENV)/bin/ruff check runtime skelgen tests examples
	$(VENV)/bin/black --check runtime skelgen tests examples

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(BUILD)
