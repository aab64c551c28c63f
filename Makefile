# skelgen — the two commands of the quick start, plus checks and benchmarks.
VENV := .venv
PY := $(VENV)/bin/python
CLANG ?= clang-19
BUILD := build

.PHONY: setup demo test test-kernels test-kernels-smoke lint docs bench bench-docs fuzz clean

setup:
	@scripts/setup.sh

$(BUILD)/minimal/minimal_skel.py: examples/minimal/minimal.bpf.c | setup
	@mkdir -p $(@D)
	$(VENV)/bin/skelgen compile --clang $(CLANG) $< -o $@

demo: setup $(BUILD)/minimal/minimal_skel.py
	PYTHONPATH=$(BUILD)/minimal $(PY) examples/minimal/app.py

# One example of examples/ (examples/README.md), compiled by skelgen compile and run:
#   make example-execsnoop        make example-runqlat ARGS="1 5"
ARGS ?=
example-%: setup
	$(PY) examples/run.py $* $(ARGS)

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
	$(VENV)/bin/ruff check runtime skelgen tests examples fuzz scripts
	$(VENV)/bin/black --check runtime skelgen tests examples fuzz scripts

# docs/api.md from the runtime's docstrings (a test checks it is up to date).
docs: setup
	$(PY) scripts/api_doc.py -o docs/api.md

# Results go to build/bench/results.md; bench-docs also rewrites docs/benchmarks.md
# and the README's table.  Both exit 0 whenever they ran, whatever the ratios.
bench: setup
	$(PY) bench/run.py

bench-docs: setup
	$(PY) bench/run.py --docs

# Fuzzing (not part of `make test`; a short run of it is): mutants of the test
# objects through skelgen, an import of its output, BPFObject.open and load().
FUZZ_SEED ?= 1
FUZZ_COUNT ?= 100000
FUZZ_JOBS ?= 2
FUZZ_FIRST ?= 0
FUZZ_SEEDS := $(BUILD)/fuzz/seeds/.built

# The seeds are the test objects compiled exactly as the tests compile them
# (tests/build_cache.py: clang -target bpf, the same flags and vmlinux.h).
$(FUZZ_SEEDS): $(wildcard tests/bpf/*.bpf.c) tests/build_cache.py tests/oracle/libbpf_oracle.py | setup
	$(PY) tests/build_cache.py $(BUILD)/fuzz/cache --objects-to $(@D)
	touch $@

fuzz: setup $(FUZZ_SEEDS)
	$(PY) -m fuzz --seed $(FUZZ_SEED) --first $(FUZZ_FIRST) --count $(FUZZ_COUNT) \
		--jobs $(FUZZ_JOBS) --seeds $(BUILD)/fuzz/seeds --out $(BUILD)/fuzz/run-$(FUZZ_SEED)-$(FUZZ_FIRST) \
		--minimize

clean:
	rm -rf $(BUILD)
