#!/usr/bin/env bash
# The "Abuse" benchmarks: a release build on loopback, attacked as the hardening issue describes.
#  1. /healthz latency (wrk, 1 connection) while 64 connections evaluate the costliest flag the
#     limits allow: five of the slowest pattern found, on 1,024-character context values.
#  2. 512 sign-ins at once with wrong passwords, from 512 addresses (the server trusts loopback
#     as a proxy here, so each request names its own address): peak RSS and how they were
#     answered (303 back to the form, 503 busy).
#   scripts/bench-abuse.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
conns=${2:-64}

BENCH_PORT=${BENCH_PORT:-3198}
# Loopback is trusted as a proxy, so each sign-in can name its own client address.
BENCH_ENV="VARAI_SANDBOX_ADDR=off VARAI_PROMETHEUS_ADDR=off VARAI_TRUSTED_PROXIES=127.0.0.1"
# shellcheck source=scripts/benchlib.sh
source scripts/benchlib.sh

# The slowest pattern of 20,000 generated within the limits (benches/evaluate.rs), five times.
pattern='(?:.{2}a(?:a|b|ab|ba){20}(?i:a){0,5})+y'
rules=""
for f in a b c d e; do
  rules="$rules{\"constraints\":[{\"contextName\":\"$f\",\"operator\":\"REGEX\",\"value\":\"$pattern\"}],\"serve\":{\"variant\":\"on\"}},"
done
api -X POST "$base/api/v1/flags" -d "{\"key\":\"worst\",\"name\":\"Worst\",\"valueType\":\"boolean\",
 \"variants\":[{\"name\":\"on\",\"value\":true},{\"name\":\"off\",\"value\":false}],
 \"environments\":{\"production\":{\"enabled\":true,\"defaultVariant\":\"off\",\"offVariant\":\"off\",\"rules\":[${rules%,}]}}}" >/dev/null
sdk=$(sdk_key)
sleep 0.5

long=$(python3 -c 'print("ab" * 512)')
body="{\"context\":{\"targetingKey\":\"u\",\"a\":\"$long\",\"b\":\"$long\",\"c\":\"$long\",\"d\":\"$long\",\"e\":\"$long\"}}"
lua=$(ofrep_script "$body" "$sdk")
echo "machine: $(nproc) cores, $(uname -m); server and load share them"
echo "== /healthz alone (wrk -t1 -c1 -d5s)"
wrk -t1 -c1 -d5s --latency "$base/healthz" | grep -E 'Requests/sec|50%|99%'
echo "== /healthz (wrk -t1 -c1) while $conns connections evaluate the costliest flag (wrk -t1 -c$conns)"
wrk -t1 -c"$conns" -d"$((secs + 2))s" --latency -s "$lua" "$base/ofrep/v1/evaluate/flags/worst" >"$data/flood.txt" &
flood=$!
sleep 1
wrk -t1 -c1 -d"${secs}s" --latency "$base/healthz" | grep -E 'Requests/sec|50%|90%|99%|Non-2xx'
wait $flood
echo "   the flood itself:"; grep -E 'Requests/sec|50%|99%|Non-2xx' "$data/flood.txt"

echo "== 512 sign-ins at once, wrong passwords, 512 client addresses"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
echo "   RSS before: $(( $(rss) / 1024 )) MB"
peak=0
( while kill -0 $pid 2>/dev/null; do echo "$(rss)"; sleep 0.05; done ) >"$data/rss.txt" &
sampler=$!
seq 1 512 | xargs -P 512 -I{} sh -c \
  'curl -s -o /dev/null -w "%{http_code}\n" -H "X-Forwarded-For: 10.9.$(({} / 256)).$(({} % 256))" \
     --data "username=admin&password=wrong-password-{}" '"$base/login" >"$data/codes.txt"
sleep 1
kill $sampler 2>/dev/null || true
peak=$(sort -n "$data/rss.txt" | tail -1)
echo "   peak RSS: $(( peak / 1024 )) MB; after: $(( $(rss) / 1024 )) MB"
echo "   answers: $(sort "$data/codes.txt" | uniq -c | awk '{printf "%s × %s, ", $1, $2}')"
