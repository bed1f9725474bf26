# strix.opencode: `make demo` and `make test` do all their own set-up on a new Debian machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
COLLECTION_TARBALL := .cache/dist/strix-opencode-0.1.0.tar.gz
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.cache/collections
export MOLECULE_GLOB := molecule/*/molecule.yml

.PHONY: setup collection docker images lint sanity unit molecule test demo demo-down clean

## setup: the pinned toolchain in .venv (rebuilt when a requirements file changes)
setup: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

## collection: build the collection tarball and install it, so everything uses strix.opencode.* by FQCN
collection: setup
	ansible-galaxy collection build --force --output-path .cache/dist . >/dev/null
	ansible-galaxy collection install --force --no-deps -p .cache/collections $(COLLECTION_TARBALL) >/dev/null
	@echo "collection: installed $(COLLECTION_TARBALL) into .cache/collections"

## docker: a Docker engine that answers (installs docker.io and starts dockerd when needed)
docker:
	bash tests/support/ensure-docker.sh

## images: the local images the tests run (rebuilt only when their recipes change): the molecule base (and the
## same with Node.js for the scenarios that do not test its install), the vLLM stand-in, a real llama.cpp server and the real vLLM on the CPU with its SmolLM2 snapshot
## (about 8 minutes the first time)
images: docker
	bash tests/support/build-base-image.sh
	bash tests/support/build-base-node-image.sh
	bash tests/support/build-stack-images.sh

lint: setup
	bash tests/support/run-tests.sh lint yamllint

sanity: collection
	bash tests/support/run-tests.sh sanity

unit: collection
	bash tests/support/run-tests.sh unit

## molecule: every scenario, or one with SCENARIO=name
molecule: collection images
	bash tests/support/run-tests.sh molecule $(SCENARIO)

## test: the set-up, lint, yamllint, sanity, unit tests, contract tests (the real vLLM and llama-server), then every
## molecule scenario, in two lanes; ends with a table of each stage's seconds (the set-up's too: the toolchain,
## the engine and the images) and "N passed, N failed"
test:
	bash tests/support/run-tests.sh

## demo: converge the site onto a throwaway local container standing in for a Strix box
demo: collection images
	bash tests/support/demo.sh up

demo-down: setup
	bash tests/support/demo.sh down

clean: demo-down
	rm -rf .cache $(VENV)
