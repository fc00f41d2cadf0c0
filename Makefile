# One entry point for people and CI.  `make test` is what .ci/run calls.
SHELL := /bin/bash
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.tmp/collections
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export ANSIBLE_NOCOLOR := 1

.PHONY: setup demo units sanity lint build integration versions test bench clean-labs

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
	bash tests/all.sh ipam scenarios versions containers

versions: setup
	bash tests/lab/forwarding-off.sh bash tests/integration/versions/run.sh

# Every suite, also after a failure; a summary table at the end (tests/all.sh).
test:
	bash tests/all.sh

bench: setup
	python3 bench/bench.py

clean-labs:
	python3 tests/lab/lab.py down-all
