# Sourced by the HTTP benchmarks: installs wrk (Debian) when missing, then starts the release
# build (scripts/serverlib.sh). Set BENCH_PORT, and extra server environment in BENCH_ENV.
# After sourcing: $bin, $data, $base, $pid, api, sdk_key, ofrep_script.
if ! command -v wrk >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y --no-install-recommends wrk
fi
SERVER_PORT=$BENCH_PORT
SERVER_ENV=${BENCH_ENV:-}
# shellcheck source=scripts/serverlib.sh
source scripts/serverlib.sh

# A wrk script posting the OFREP request body $1 with the SDK key $2; prints its path.
ofrep_script() {
  local lua
  lua=$(mktemp -p "$data")
  cat >"$lua" <<LUA
wrk.method = "POST"
wrk.body = '$1'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "$2"
LUA
  echo "$lua"
}
