#!/usr/bin/env bash
# Release build with cargo-leptos: the `varai` server binary and the size-optimised WASM.
# Skipped when no source file changed since the last build, so a second `make run` is quick.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-target}
bin="$target_dir/release/varai"
stamp=target/site/.source-sum

source_sum() {
  find Cargo.toml Cargo.lock src app server style public migrations -type f -print0 \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}

sum=$(source_sum)
# The binary may be shared with other checkouts through CARGO_TARGET_DIR, so it carries its
# own stamp beside the site's.
if [ -x "$bin" ] && [ -f target/site/pkg/varai.wasm ] \
  && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ] && [ "$(cat "$bin.source-sum" 2>/dev/null)" = "$sum" ]; then
  echo "release build is up to date"
else
  cargo leptos build --release
  echo "$sum" > "$stamp"
  echo "$sum" > "$bin.source-sum"
fi
# With a shared CARGO_TARGET_DIR the binary lives outside the repository; link it so that
# `target/release/varai` works from the repository root either way.
if [ "$(realpath -m "$target_dir")" != "$(realpath -m target)" ]; then
  mkdir -p target/release
  ln -sf "$(realpath "$target_dir")/release/varai" target/release/varai
fi
