#!/usr/bin/env bash
# Installs what building and running need, skipping whatever is already present.
# Prometheus and Alertmanager come from Debian (the server supervises its own Prometheus when
# no URL is configured). With --test, also what the tests need: Chromium and kubectl from
# Debian and a running PostgreSQL.
# Only crates.io, npm and Debian packages are used; nothing downloads a browser or a binary.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.10'; then
  say "installing cargo-leptos 0.3.10 (takes a while, once)"
  cargo install cargo-leptos --version 0.3.10 --locked --features no_downloads
fi

wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " ${wb_version}\$"; then
  say "installing wasm-bindgen-cli ${wb_version} (matches Cargo.lock)"
  cargo install wasm-bindgen-cli --version "${wb_version}"
fi

# npm packages: binaryen's wasm-opt for release builds, Playwright for browser tests.
lock_sum=$(sha256sum end2end/package-lock.json | cut -d' ' -f1)
if [ "$(cat end2end/node_modules/.varai-lock 2>/dev/null)" != "$lock_sum" ]; then
  say "installing npm packages in end2end/"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  echo "$lock_sum" > end2end/node_modules/.varai-lock
fi

# Debian packages: Prometheus and Alertmanager always; with --test also Chromium for the
# browser tests and kubectl (kubernetes-client) to check the sandbox cluster as an outside client.
missing=()
command -v prometheus >/dev/null || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
if [ "${1:-}" = "--test" ]; then
  command -v chromium >/dev/null || missing+=(chromium)
  command -v kubectl >/dev/null || missing+=(kubernetes-client)
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} from Debian"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" = "--test" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    say "starting PostgreSQL"
    for v in /etc/postgresql/*; do
      pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start || true
    done
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432; its tests need it" >&2; exit 1; }
  fi
fi

# Python: schemathesis for the API contract tests, in a virtual environment outside the clone.
if [ "${1:-}" = "--test" ]; then
  tools=${VARAI_TOOLS:-$HOME/.cache/varai}
  req_sum=$(sha256sum scripts/requirements-test.txt | cut -d' ' -f1)
  if [ "$(cat "$tools/venv/.varai-req" 2>/dev/null)" != "$req_sum" ]; then
    say "installing schemathesis (PyPI) into $tools/venv"
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
    echo "$req_sum" > "$tools/venv/.varai-req"
  fi
fi
