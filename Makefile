# resolver.scim developer entry points. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
VENV ?= $(CURDIR)/.venv
PYTHON ?= $(shell hacking/find-python.sh)
BIN := $(VENV)/bin
TMP := $(CURDIR)/.tmp
DIST := $(TMP)/dist
# Collections from the `ansible` wheel on PyPI (hacking/fetch-collections.sh), as Galaxy is unreachable.
# awx.awx for linting playbooks/awx_configure.yml: ansible 14 no longer ships it; 11.13.0 carries awx.awx 24.6.1.
AWX_ANSIBLE_VERSION := 11.13.0
AWX_COLLECTIONS := $(TMP)/awx
AWX_MARKER := $(AWX_COLLECTIONS)/ansible_collections/awx/awx/meta/runtime.yml
# The optional token stores' collections (docs/stores.md), tested with these versions: ansible 14.5.0 carries
# community.hashi_vault 7.1.0, amazon.aws 11.4.0 and community.aws 11.2.0 (secretsmanager_secret), for core 2.21.
STORE_ANSIBLE_VERSION := 14.5.0
STORE_COLLECTIONS := $(TMP)/store-collections
STORE_MARKER := $(STORE_COLLECTIONS)/.ansible-$(STORE_ANSIBLE_VERSION)
# Tests import and run the collection from the work tree via pytest-ansible's collection injection.
PYTEST := cd $(CURDIR) && NO_PROXY=127.0.0.1,localhost,::1 $(BIN)/pytest

.PHONY: help venv collection install demo bench test units integration sanity lint changelog-lint awx-check ee \
	packaging store-collections exhaustive clean

help:
	@echo "make demo   - start the Resolver emulator and run the help article's procedure as a playbook"
	@echo "make test   - unit + integration tests (real ansible-playbook against the emulator) + sanity"
	@echo "make exhaustive - the long matrices (the Entra ID fault matrix's every fault); CI runs it after make test"
	@echo "make bench  - wall time and API requests of the role vs hand-written baselines (docs/performance.md)"
	@echo "make units | integration | lint | sanity | awx-check | ee | packaging | collection | clean"

$(BIN)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

collection: venv
	rm -rf $(DIST) && mkdir -p $(DIST)
	$(BIN)/ansible-galaxy collection build --force --output-path $(DIST) .

# The install path is also the configured collections path, as for the runs that use it (no path warning).
install: collection
	ANSIBLE_COLLECTIONS_PATH=$(TMP)/collections $(BIN)/ansible-galaxy collection install --force -p $(TMP)/collections \
		$(DIST)/resolver-scim-*.tar.gz

demo: install
	PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(TMP)/collections hacking/demo.sh

# Benchmarks (not tests): the role vs hand-written baselines; BENCH_ARGS="--full --runs 5" for the whole grid.
bench: install
	cd $(CURDIR) && $(BIN)/python tests/benchmarks/bench.py $(BENCH_ARGS)

units: venv
	$(PYTEST) tests/unit

# The store tests (tests/integration/stores) run the hashi_vault and aws_secretsmanager stores with these collections.
# Long matrices are marked `exhaustive` and run by `make exhaustive` (CI runs both), so that `make test` stays short.
integration: venv $(STORE_MARKER)
	$(PYTEST) -n auto --dist loadgroup --durations=25 -m "not exhaustive" tests/integration

exhaustive: venv $(STORE_MARKER)
	$(PYTEST) -n auto --dist loadgroup --durations=25 -m exhaustive tests/integration

sanity: venv
	VENV=$(VENV) hacking/sanity.sh

$(AWX_MARKER): hacking/fetch-collections.sh | venv
	rm -rf $(AWX_COLLECTIONS)
	hacking/fetch-collections.sh $(BIN)/python $(AWX_COLLECTIONS) $(AWX_ANSIBLE_VERSION) awx.awx

$(STORE_MARKER): hacking/fetch-collections.sh | venv
	rm -rf $(STORE_COLLECTIONS)
	hacking/fetch-collections.sh $(BIN)/python $(STORE_COLLECTIONS) $(STORE_ANSIBLE_VERSION) \
		community.hashi_vault amazon.aws community.aws
	touch $@

store-collections: $(STORE_MARKER)

# ansible-lint's production profile over the role and playbooks users run (.ansible-lint), with the optional
# collections that the AWX playbook and the secrets-manager stores use.
lint: venv $(AWX_MARKER) $(STORE_MARKER)
	cd $(CURDIR) && ANSIBLE_COLLECTIONS_PATH=$(AWX_COLLECTIONS):$(STORE_COLLECTIONS) $(BIN)/ansible-lint roles playbooks

# The AWX configuration playbook cannot run without a controller: check it resolves against awx.awx (lint above).
awx-check: venv $(AWX_MARKER)
	cd $(CURDIR) && ANSIBLE_COLLECTIONS_PATH=$(AWX_COLLECTIONS) $(BIN)/ansible-playbook --syntax-check \
		-i localhost, playbooks/awx_configure.yml

# The execution environment definition: ansible-builder writes its build context (no container engine needed).
ee: collection
	rm -rf $(TMP)/ee && mkdir -p $(TMP)/ee
	cp extensions/ee/execution-environment.yml $(TMP)/ee/
	cp $(DIST)/resolver-scim-*.tar.gz $(TMP)/ee/resolver-scim.tar.gz
	$(BIN)/ansible-builder create -f $(TMP)/ee/execution-environment.yml --context $(TMP)/ee/context \
		--output-filename Containerfile
	grep -q "ansible-galaxy collection install" $(TMP)/ee/context/Containerfile
	grep -q "/build/collections/resolver-scim.tar.gz" $(TMP)/ee/context/_build/requirements.yml
	grep -q "community.hashi_vault" $(TMP)/ee/context/_build/requirements.yml
	grep -q "hvac" $(TMP)/ee/context/_build/requirements.txt
	test -s $(TMP)/ee/context/_build/collections/resolver-scim.tar.gz

# Galaxy-quality packaging: the installed tarball through galaxy-importer and antsibull-docs, and the docs build.
packaging: install
	PYTHON=$(PYTHON) hacking/packaging.sh $(DIST) $(TMP)

changelog-lint: venv
	$(BIN)/antsibull-changelog lint
	$(BIN)/antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

test: units integration lint awx-check ee packaging changelog-lint sanity

clean:
	rm -rf $(TMP) collections tests/output .pytest_cache .ansible
