# Sourced by scripts that drive a release build over HTTP: starts it on loopback with a fresh
# data folder (removed on exit) and defines `api` for REST calls with an admin token.
# Set SERVER_PORT, and extra server environment in SERVER_ENV (VAR=value …).
# After sourcing: $bin, $data, $base, $pid, $token, api, sdk_key.
target=${CARGO_TARGET_DIR:-target}
bin=${VARAI_BIN:-$target/release/varai}
[ -x "$bin" ] || { echo "no release build at $bin; run 'make release' first" >&2; exit 1; }

data=$(mktemp -d)
base="http://127.0.0.1:$SERVER_PORT"
# shellcheck disable=SC2086
env RUST_LOG=warn VARAI_ADMIN_PASSWORD=bench-admin-password-1 ${SERVER_ENV:-} \
  "$bin" --addr "127.0.0.1:$SERVER_PORT" --data-dir "$data" >"$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done

token=$("$bin" admin create-token --role admin --name "${SERVER_TOKEN_NAME:-bench}" --data-dir "$data" \
  | grep -o 'varai_[A-Za-z0-9]*' | head -1)
api() { curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }

# An SDK key for production.
sdk_key() {
  api -X POST "$base/api/v1/sdk-keys" -d '{"environment":"production","name":"bench"}' \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])'
}
