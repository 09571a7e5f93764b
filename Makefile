# kubectl-infercost: `make demo` runs the whole story on the local cluster, `make test` runs every tier.
PYTHON ?= python3
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
# The interpreter's scripts directory first: kubectl finds the plugin (kubectl-infercost) there, and the tools.
export PATH := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$(PATH)

.PHONY: help setup test-binaries krew release lint typecheck imports unit integration validator e2e test demo bench clean

help:
	@echo "make setup      install the package with its dev tools and build the test binaries"
	@echo "make test       lint and dead code, types, import contracts, unit, integration (real kube-apiserver), validator and e2e tiers"
	@echo "make release    the binary, the krew archive and krew/infercost.yaml of the package version (docs/releasing.md)"
	@echo "make demo       a simulated GPU cluster, reconciled and reported"
	@echo "make bench      benchmarks; results go to BENCHMARKS.md by hand"

setup:
	$(PYTHON) -m pip install -q -e '.[dev]'
	hack/build-test-binaries >/dev/null
	hack/build-kube-state-metrics >/dev/null
	hack/build-versitygw >/dev/null

test-binaries:
	hack/build-test-binaries >/dev/null
	hack/build-kube-state-metrics >/dev/null
	hack/build-versitygw >/dev/null

krew:
	hack/build-krew >/dev/null

RELEASE_VERSION ?= $(shell $(PYTHON) -c 'import kubectl_infercost as k; print(k.__version__)')

release: krew
	scripts/release $(RELEASE_VERSION)

# ruff (style, complexity, unused arguments) and vulture (dead code; paths and allowlist in pyproject.toml).
lint:
	ruff check kubectl_infercost tests testenv bench
	vulture

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

# The released archive installed by krew, every command through kubectl's plugin discovery.
e2e: test-binaries release
	scripts/with-cluster $(PYTHON) -m pytest tests/e2e -q

test: setup lint typecheck imports unit integration validator e2e

demo: setup
	scripts/with-cluster scripts/demo

bench: setup release
	scripts/with-cluster $(PYTHON) bench/run_all.py

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
