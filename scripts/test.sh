#!/usr/bin/env bash
# Every check `make test` runs, in order, each timed. `scripts/test.sh lint|unit|e2e` runs one group.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=${RUST_BACKTRACE:-0}
group=${1:-all}
started=$(date +%s)

step() {
  local t0=$(date +%s)
  printf '\033[1m==> %s\033[0m\n' "$1"
  shift
  "$@"
  printf '    (%ss)\n' "$(( $(date +%s) - t0 ))"
}

lint() {
  step "cargo fmt --check" cargo fmt --all --check
  step "clippy, server build (ssr)" cargo clippy --workspace --all-targets --locked -- -D warnings
  step "clippy, browser build (hydrate, wasm32)" \
    cargo clippy -p varai-app --lib --target wasm32-unknown-unknown --features hydrate --locked -- -D warnings
  step "domain and core crates build for wasm32" \
    cargo build -p varai-domain -p varai-core --target wasm32-unknown-unknown --locked
}

unit() {
  step "unit and integration tests (SQLite and PostgreSQL)" cargo test --workspace --locked
}

e2e() {
  step "release build (cargo-leptos)" scripts/build-release.sh
  local wasm=target/site/pkg/varai.wasm
  printf '    release WASM: %s bytes, %s bytes gzipped\n' "$(stat -c %s "$wasm")" "$(gzip -9c "$wasm" | wc -c)"
  step "browser tests (Playwright, Debian Chromium)" bash -c 'cd end2end && npx playwright test'
  step "API contract (schemathesis: REST document and OFREP specification)" scripts/api-contract.sh
}

case "$group" in
  lint) lint ;;
  unit) unit ;;
  e2e) e2e ;;
  all) lint; unit; e2e ;;
  *) echo "unknown group '$group' (lint, unit, e2e)" >&2; exit 2 ;;
esac
printf '\033[1m==> all checks passed in %ss\033[0m\n' "$(( $(date +%s) - started ))"
