#!/usr/bin/env bash
# Release build with cargo-leptos: the `varai` server binary and the size-optimised WASM.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-target}
cargo leptos build --release
# With a shared CARGO_TARGET_DIR the binary lives outside the repository; link it so that
# `target/release/varai` works from the repository root either way.
if [ "$(realpath -m "$target_dir")" != "$(realpath -m target)" ]; then
  mkdir -p target/release
  ln -sf "$(realpath "$target_dir")/release/varai" target/release/varai
fi
