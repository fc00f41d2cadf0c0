# One entry point for people and CI.  `make test` is what .ci/run calls.
SHELL := /bin/bash
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.tmp/collections
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export ANSIBLE_NOCOLOR := 1

.PHONY: setup demo units sanity lint build integration test bench clean-labs

setup:
	bash tests/setup.sh

demo:
	bash tests/demo.sh

units: setup
	pytest -q tests/unit

sanity: setup
	bash tests/sanity/run.sh

lint: setup
	ansible-lint --profile production --offline

build: setup
	bash tests/build.sh

integration: setup
	bash tests/integration/ipam/run.sh
	bash tests/integration/run.sh
	bash tests/containers/run.sh

test: units sanity lint build integration

bench: setup
	python3 bench/bench.py

clean-labs:
	python3 tests/lab/lab.py down-all
