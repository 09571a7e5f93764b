# kubectl-infercost: `make demo` runs the whole story on the local cluster, `make test` runs every tier.
PYTHON ?= python3
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
# The interpreter's scripts directory first: kubectl finds the plugin (kubectl-infercost) there, and the tools.
export PATH := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$(PATH)

.PHONY: help setup test-binaries lint typecheck imports unit integration validator test demo bench clean

help:
	@echo "make setup      install the package with its dev tools and build the test binaries"
	@echo "make test       lint, types, import contracts, unit, integration (real kube-apiserver) and validator tiers"
	@echo "make demo       a simulated GPU cluster, reconciled and reported"
	@echo "make bench      benchmarks; results go to BENCHMARKS.md by hand"

setup:
	$(PYTHON) -m pip install -q -e '.[dev]'
	hack/build-test-binaries >/dev/null
	hack/build-kube-state-metrics >/dev/null

test-binaries:
	hack/build-test-binaries >/dev/null
	hack/build-kube-state-metrics >/dev/null

lint:
	ruff check kubectl_infercost tests testenv bench

typecheck:
	mypy

imports:
	lint-imports

unit:
	$(PYTHON) -m pytest tests/unit -q

integration: test-binaries
	scripts/with-cluster $(PYTHON) -m pytest tests/integration -q

validator:
	$(PYTHON) -m pytest tests/validator -q

test: setup lint typecheck imports unit integration validator

demo: setup
	scripts/with-cluster scripts/demo

bench: setup
	scripts/with-cluster $(PYTHON) bench/run_all.py

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
