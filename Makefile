# skelgen — the two commands of the quick start, plus checks and benchmarks.
VENV := .venv
PY := $(VENV)/bin/python
CLANG ?= clang-19
BUILD := build
MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -I/usr/include/$(MULTIARCH)

.PHONY: setup demo test test-kernels test-kernels-smoke lint bench clean

setup:
	@scripts/setup.sh

$(BUILD)/minimal/minimal.bpf.o: examples/minimal/minimal.bpf.c | setup
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/minimal/minimal_skel.py: $(BUILD)/minimal/minimal.bpf.o
	$(VENV)/bin/skelgen $< -o $@

demo: setup $(BUILD)/minimal/minimal_skel.py
	PYTHONPATH=$(BUILD)/minimal $(PY) examples/minimal/app.py

test: setup
	$(VENV)/bin/pytest -q

# The kernel tests in VMs on Debian's kernels (docs/kernels.md), e.g.
#   make test-kernels KERNELS="5.10 6.1" TESTS=tests/kernel/test_maps.py K=lpm
KERNELS ?= 5.10 6.1 6.12 sid
TESTS ?=
K ?=
test-kernels: setup
	scripts/kernels/matrix --kernels $(KERNELS) $(if $(TESTS),--tests $(TESTS)) $(if $(K),-k "$(K)")

# The bounded smoke of the matrix meant for CI: the two oldest kernels, all of
# tests/kernel (about 6 minutes each under TCG, see docs/kernels.md), 30 minutes at
# most each; fails when a VM breaks, not on test failures (add SMOKE_STRICT=--strict).
SMOKE_KERNELS := 5.10 6.1
SMOKE_TESTS := tests/kernel
SMOKE_STRICT ?=
test-kernels-smoke: setup
	scripts/kernels/matrix --kernels $(SMOKE_KERNELS) --tests $(SMOKE_TESTS) --no-docs --timeout 1800 $(SMOKE_STRICT)

lint: setup
	$(VENV)/bin/mypy runtime/skelgen_runtime skelgen
	MYPYPATH=scripts/kernels $(VENV)/bin/mypy scripts/kernels
	$(VENV)/bin/ruff check runtime skelgen tests examples scripts
	$(VENV)/bin/black --check runtime skelgen tests examples scripts

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(BUILD)
