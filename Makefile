# resolver.scim developer entry points. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
VENV ?= $(CURDIR)/.venv
PYTHON ?= $(shell hacking/find-python.sh)
BIN := $(VENV)/bin
TMP := $(CURDIR)/.tmp
DIST := $(TMP)/dist
# Tests import and run the collection from the work tree via pytest-ansible's collection injection.
PYTEST := cd $(CURDIR) && NO_PROXY=127.0.0.1,localhost,::1 $(BIN)/pytest

.PHONY: help venv collection install demo bench test units integration sanity lint changelog-lint clean

help:
	@echo "make demo   - start the Resolver emulator and run the help article's procedure as a playbook"
	@echo "make test   - unit + integration tests (real ansible-playbook against the emulator) + sanity"
	@echo "make bench  - wall time and API requests of the role vs hand-written baselines (docs/performance.md)"
	@echo "make units | integration | lint | sanity | collection | clean"

$(BIN)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

collection: venv
	rm -rf $(DIST) && mkdir -p $(DIST)
	$(BIN)/ansible-galaxy collection build --force --output-path $(DIST) .

install: collection
	$(BIN)/ansible-galaxy collection install --force -p $(TMP)/collections $(DIST)/resolver-scim-*.tar.gz

demo: install
	PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(TMP)/collections hacking/demo.sh

# Benchmarks (not tests): the role vs hand-written baselines; BENCH_ARGS="--full --runs 5" for the whole grid.
bench: install
	cd $(CURDIR) && $(BIN)/python tests/benchmarks/bench.py $(BENCH_ARGS)

units: venv
	$(PYTEST) tests/unit

integration: venv
	$(PYTEST) tests/integration

sanity: venv
	VENV=$(VENV) hacking/sanity.sh

# ansible-lint's production profile over the role and playbooks users run (.ansible-lint).
lint: venv
	cd $(CURDIR) && $(BIN)/ansible-lint roles playbooks

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

test: units integration lint changelog-lint sanity

clean:
	rm -rf $(TMP) collections tests/output .pytest_cache .ansible
