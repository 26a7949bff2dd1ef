# VARAi Rollout. `make run` starts the dashboard; `make test` runs every check.
# Both install what is missing first (wasm32 target, cargo-leptos, wasm-bindgen, npm packages;
# for tests also Chromium), skipping what is already there.

SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(CURDIR)/target
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: run test setup setup-test release lint unit wasm e2e fmt help

## run: build the release binary and serve http://127.0.0.1:3000 (SQLite under data/)
run: setup release
	@scripts/run.sh

## test: fmt, clippy (server and WASM), unit and integration tests on SQLite and PostgreSQL, browser tests
test: setup-test
	@scripts/test.sh

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh --test

## release: cargo-leptos release build (server binary + hydrated WASM)
release:
	@scripts/build-release.sh

lint: setup
	@scripts/test.sh lint

unit: setup-test
	@scripts/test.sh unit

e2e: setup-test
	@scripts/test.sh e2e

fmt:
	cargo fmt --all

help:
	@grep -E '^## ' Makefile | sed 's/^## //'
