# crane.swarm: two set-up commands, each works on a fresh Debian 12 machine as root.
#   make demo   bare hosts on the local sandbox to a running example stack with crane.swarm.site
#   make test   the whole suite: unit, build, sanity, lint, integration on the sandbox, molecule
# and, without root or the sandbox:
#   make check  unit, build, sanity, lint and ruff side by side (about 1 to 2 minutes on 2 cores)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
SANDBOX := python3 tests/sandbox/sandbox.py
# The sandbox's name (default crane): CRANE_SANDBOX=other runs a second one beside it.
SANDBOX_NAME := $(or $(CRANE_SANDBOX),crane)
INVENTORY := tests/output/sandbox-$(SANDBOX_NAME)/inventory.yml
# The demo's own sandbox of bare hosts (CRANE_DEMO_SANDBOX=other for another one).
DEMO_NAME := $(or $(CRANE_DEMO_SANDBOX),demo)
MOLECULE_SCENARIOS := default ha
COLLECTIONS := $(CURDIR)/build/collections
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_DEPRECATION_WARNINGS := False
# One `docker exec` (or ssh round trip) per task instead of four.
export ANSIBLE_PIPELINING := True

# Debian packages the sandbox, the tests and the demo need on this machine.
APT_PACKAGES := docker.io debootstrap busybox-static chrony docker-registry openssl iptables iproute2 git make shellcheck

.PHONY: help demo demo-down test check deps venv collection unit sanity lint ruff format integration integration-early integration-late molecule matrix changelog system build-check sandbox-up sandbox-down clean bench

help:
	@echo "make demo   - 3 bare hosts on a local sandbox to a running example stack with crane.swarm.site"
	@echo "make test   - the whole test suite (unit, build, sanity, lint, integration on the sandbox, molecule)"
	@echo "make check  - the checks that need neither root nor the sandbox: unit, build, sanity, lint, ruff"
	@echo "make format - ruff format and ruff's safe fixes over the tree"
	@echo "make demo-down - remove the demo's sandbox"
	@echo "make sandbox-down - remove the sandbox (hosts, volumes, network; the engine it started)"
	@echo "make bench  - benchmarks on their own sandbox: stack deployment, cluster formation, no-change converge (bench/results.md)"

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# An existing venv (or a link to one) is kept: a changed requirements file only installs what changed.
$(VENV)/.installed: requirements-test.txt
	@test -x $(VENV)/bin/python || { python3 -m venv $(VENV) && $(VENV)/bin/pip install -q --upgrade pip; }
	$(VENV)/bin/pip install -q -r requirements-test.txt
	touch $@

venv: $(VENV)/.installed

# The checkout is the collection: expose it as ansible_collections/crane/swarm.
collection:
	@mkdir -p $(COLLECTIONS)/ansible_collections/crane
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/crane/swarm

sandbox-up: deps collection
	$(SANDBOX) up

sandbox-down:
	$(SANDBOX) down

demo: deps venv collection
	$(SANDBOX) up --name $(DEMO_NAME) --flavour bare
	$(SANDBOX) ntp-up --name $(DEMO_NAME) --port 10123 --dir tests/output/demo/ntp
	$(SANDBOX) image-archive --out tests/output/demo/busybox.tar
	$(VENV)/bin/ansible-playbook -i tests/output/sandbox-$(DEMO_NAME)/inventory.yml -e @tests/sandbox/demo-vars.yml playbooks/demo.yml
	@echo "The sandbox stays up: hosts are containers crane-$(DEMO_NAME)-node1..3 (make demo-down removes them)."

demo-down:
	$(SANDBOX) ntp-down --dir tests/output/demo/ntp
	$(SANDBOX) down --name $(DEMO_NAME)

unit: venv collection
	$(PY) -m pytest tests/unit -q

sanity: venv
	tests/sanity.sh

# The built tarball must install and load: ansible-doc reads every module from it.
build-check: venv
	rm -rf build/galaxy && mkdir -p build/galaxy
	$(VENV)/bin/ansible-galaxy collection build --output-path build/galaxy . >/dev/null
	$(VENV)/bin/ansible-galaxy collection install --force -p build/galaxy/installed build/galaxy/crane-swarm-*.tar.gz >/dev/null
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/galaxy/installed $(VENV)/bin/ansible-doc -l crane.swarm | tee build/galaxy/modules.txt
	test "$$(wc -l < build/galaxy/modules.txt)" -ge 4

# $(call integration_on,SANDBOX NAME,PYTEST ARGUMENTS): the sandbox up, pytest on it, the sandbox down
# whatever pytest said; pytest's exit status is the recipe's.
define integration_on
	$(SANDBOX) up --name $(1)
	status=0; CRANE_SANDBOX=$(1) $(PY) -m pytest -q $(2) || status=$$?; $(SANDBOX) down --name $(1); exit $$status
endef

integration: deps venv collection
	$(call integration_on,$(SANDBOX_NAME),tests/integration --durations=25)

# make system splits the integration tests in two, each on its own sandbox: these files run after
# molecule (on the sandbox crane-late), the others from the start (on crane).
INTEGRATION_LATE := test_compose_parity.py test_faults.py test_recover.py test_registry_auth.py test_registry_images.py test_rotate.py test_upgrade.py

integration-early: deps venv collection
	$(call integration_on,crane,tests/integration --durations=15 $(addprefix --ignore=tests/integration/,$(INTEGRATION_LATE)))

integration-late: deps venv collection
	$(call integration_on,crane-late,--durations=15 $(addprefix tests/integration/,$(INTEGRATION_LATE)))

# yamllint, the changelog fragments, the docs of every plugin and role (antsibull-docs), and
# ansible-lint (production profile) on roles, playbooks and molecule scenarios.
lint: venv collection
	$(VENV)/bin/yamllint -s .
	$(VENV)/bin/antsibull-changelog lint
	cd $(COLLECTIONS)/ansible_collections/crane/swarm && PATH=$(CURDIR)/$(VENV)/bin:$$PATH \
	  $(CURDIR)/$(VENV)/bin/antsibull-docs lint-collection-docs --plugin-docs .
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/ansible-lint -q roles playbooks extensions/molecule

# CHANGELOG.rst and changelogs/changelog.yaml for the version in galaxy.yml, from changelogs/fragments
# (which the release consumes). Run once per release, then commit the result.
changelog: venv collection
	$(VENV)/bin/antsibull-changelog lint
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/antsibull-changelog release --version $$(sed -n 's/^version: *//p' galaxy.yml)

# ruff's lint rules on all Python code (settings in pyproject.toml).
ruff: venv
	$(VENV)/bin/ruff check --no-cache .

# Rewrites files: ruff's formatter, then its safe fixes.
format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The checks that need neither root, nor the sandbox, nor `make deps`, side by side; each one's
# output goes to tests/output/check/<part>.log, printed when all are done, then PASS/FAIL per part.
CHECKS := unit build-check sanity lint ruff
check: venv collection
	@MAKE="$(MAKE)" tests/tools/parts.sh tests/output/check $(CHECKS)

# The molecule scenarios on hosts that start bare: site, idempotence, verify, scale,
# remove_node, rebuild. Both run at once (each on its own network); their logs follow.
molecule: deps venv collection
	$(SANDBOX) build
	$(SANDBOX) image-archive --out tests/output/molecule/busybox.tar
	status=0; pids=""; \
	for scenario in $(MOLECULE_SCENARIOS); do \
	  PATH=$(CURDIR)/$(VENV)/bin:$$PATH PY_COLORS=0 ANSIBLE_FORCE_COLOR=0 \
	    $(VENV)/bin/molecule test -s $$scenario > tests/output/molecule/$$scenario.log 2>&1 & pids="$$pids $$!"; \
	done; \
	for pid in $$pids; do wait $$pid || status=1; done; \
	for scenario in $(MOLECULE_SCENARIOS); do \
	  echo "=== molecule $$scenario"; grep -E '^(fatal|ERROR|CRITICAL)|Executed|^[a-z0-9-]+ +: ok=' tests/output/molecule/$$scenario.log || true; \
	done; \
	[ $$status -eq 0 ] || { for scenario in $(MOLECULE_SCENARIOS); do echo "=== tail of $$scenario.log"; tail -60 tests/output/molecule/$$scenario.log; done; }; \
	$(SANDBOX) down --name molecule; exit $$status

# The sandbox phase (system: integration, molecule, matrix) and the checks at the same time: the checks need neither the
# sandbox nor root, and the system tests spend much of their time waiting (the checks run at
# a lower CPU priority, on what the system tests leave idle). system's output shows as it
# runs; the checks' logs follow, then one PASS/FAIL line per part (logs in tests/output/test).
test: deps venv collection
	@MAKE="$(MAKE)" tests/tools/parts.sh tests/output/test --live system --nice check

# The integration tests, the molecule scenarios and the version matrix at the same time: they
# spend much of their time waiting for swarms and packages. Two chains: the early integration
# tests; molecule, then the late integration tests on a second sandbox; the matrix beside them.
# The outer engine and the images are made ready first, so that none starts them twice.
system: deps venv collection
	$(SANDBOX) build
	@mkdir -p tests/output
	status=0; \
	{ late=0; $(MAKE) molecule > tests/output/molecule-run.log 2>&1 || late=$$?; \
	  $(MAKE) integration-late > tests/output/integration-late.log 2>&1 || late=$$?; exit $$late; } & late=$$!; \
	$(MAKE) matrix > tests/output/matrix-run.log 2>&1 & matrix=$$!; \
	$(MAKE) integration-early || status=$$?; \
	wait $$late || status=$$?; \
	wait $$matrix || status=$$?; \
	cat tests/output/molecule-run.log tests/output/integration-late.log tests/output/matrix-run.log; exit $$status

# The supported range, tested: the lowest and the newest ansible-core declared, each in a fresh
# virtualenv with the collection installed from its tarball, run the README's quick start on
# Debian 11 hosts (Python 3.9) at -vvv, searched for every secret (tests/matrix/run_matrix.py).
matrix: deps venv collection
	$(PY) tests/matrix/run_matrix.py

clean: sandbox-down
	rm -rf build tests/output

# Benchmarks on sandboxes of their own (bench/README.md); they print tables and write bench/results.md.
# STACK_BENCH_ARGS / CLUSTER_BENCH_ARGS / CONVERGE_BENCH_ARGS pass options, e.g. STACK_BENCH_ARGS="--sizes 10 --rounds 1".
bench: deps venv collection
	$(PY) bench/stack_deploy.py $(STACK_BENCH_ARGS)
	$(PY) bench/cluster_formation.py $(CLUSTER_BENCH_ARGS)
	$(PY) bench/converge.py $(CONVERGE_BENCH_ARGS)
