# crane.swarm: two set-up commands, each works on a fresh Debian 12 machine as root.
#   make demo   bring up the local sandbox, form a 3-node swarm and deploy an example stack with our modules
#   make test   the whole suite: unit, ansible-test sanity, integration on the sandbox
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
SANDBOX := python3 tests/sandbox/sandbox.py
# The sandbox's name (default crane): CRANE_SANDBOX=other runs a second one beside it.
SANDBOX_NAME := $(or $(CRANE_SANDBOX),crane)
INVENTORY := tests/output/sandbox-$(SANDBOX_NAME)/inventory.yml
COLLECTIONS := $(CURDIR)/build/collections
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_DEPRECATION_WARNINGS := False

# Debian packages the sandbox, the tests and the demo need on this machine.
APT_PACKAGES := docker.io debootstrap busybox-static chrony iptables iproute2 git make shellcheck

.PHONY: help demo test deps venv collection unit sanity integration build-check sandbox-up sandbox-down clean

help:
	@echo "make demo   - local sandbox of 3 hosts, a swarm formed by crane.swarm, an example stack deployed and shown"
	@echo "make test   - the whole test suite (unit, sanity, integration on the sandbox)"
	@echo "make sandbox-down - remove the sandbox (hosts, volumes, network; the engine it started)"

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: requirements-test.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
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

demo: deps venv sandbox-up
	$(VENV)/bin/ansible-playbook -i $(INVENTORY) playbooks/demo.yml
	@echo "The sandbox stays up: hosts are containers crane-$(SANDBOX_NAME)-node1..3 (make sandbox-down removes them)."

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

integration: deps venv collection
	$(SANDBOX) up
	status=0; $(PY) -m pytest tests/integration -q --durations=25 || status=$$?; $(SANDBOX) down; exit $$status

test: deps venv collection
	$(MAKE) unit
	$(MAKE) build-check
	$(MAKE) sanity
	$(MAKE) integration

clean: sandbox-down
	rm -rf build tests/output
