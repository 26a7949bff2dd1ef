#!/usr/bin/env bash
# HTTP benchmark of the OFREP endpoints: a release build on loopback, driven by wrk (Debian's
# package). Prints requests/s and latency percentiles for a single-flag and a bulk evaluation.
#   scripts/bench-ofrep.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
conns=${2:-64}

BENCH_PORT=${BENCH_PORT:-3199}
# shellcheck source=scripts/benchlib.sh
source scripts/benchlib.sh

# The benchmark flag: 5 rules, 3 segments and 10 constraints; the context matches the last rule.
flag='{"key":"bench-flag","name":"Bench","valueType":"string",
 "variants":[{"name":"a","value":"A"},{"name":"b","value":"B"},{"name":"c","value":"C"}],
 "environments":{"production":{"enabled":true,"defaultVariant":"a","offVariant":"a","rules":[
  {"segments":["internal"],"constraints":[{"contextName":"country","operator":"IN","values":["NO","SE","DK"]}],"serve":{"variant":"b"}},
  {"constraints":[{"contextName":"appVersion","operator":"SEMVER_LT","value":"2.0.0"},{"contextName":"plan","operator":"STR_STARTS_WITH","values":["enterprise"]}],"serve":{"variant":"c"}},
  {"segments":["low-risk"],"constraints":[{"contextName":"signup","operator":"DATE_BEFORE","value":"2020-01-01T00:00:00Z"},{"contextName":"remoteAddress","operator":"IN_CIDR","values":["10.0.0.0/8"]}],"serve":{"variant":"b"}},
  {"constraints":[{"contextName":"userAgent","operator":"REGEX","value":"^Bot/"},{"contextName":"riskScore","operator":"NUM_GT","value":"90"}],"serve":{"variant":"c"}},
  {"segments":["beta-testers"],"constraints":[{"contextName":"country","operator":"NOT_IN","values":["US"]},{"contextName":"plan","operator":"STR_CONTAINS","values":["pro"]},{"contextName":"appVersion","operator":"SEMVER_GTE","value":"2.1.0"}],
   "rollout":50,"serve":{"split":{"variants":[{"variant":"b","weight":50},{"variant":"c","weight":50}]}}}]}}}'
api -X POST "$base/api/v1/flags" -d "$flag" >/dev/null
# 99 more simple flags, so the bulk response carries 100.
for i in $(seq 1 99); do
  api -X POST "$base/api/v1/flags" -d "{\"key\":\"flag-$i\",\"name\":\"Flag $i\",\"valueType\":\"boolean\",\"variants\":[{\"name\":\"on\",\"value\":true},{\"name\":\"off\",\"value\":false}],\"environments\":{\"production\":{\"enabled\":true,\"defaultVariant\":\"on\",\"offVariant\":\"off\",\"rules\":[{\"segments\":[\"beta-testers\"],\"rollout\":30,\"serve\":{\"variant\":\"on\"}}]}}}" >/dev/null
done
sdk=$(sdk_key)
sleep 0.5

body='{"context":{"targetingKey":"user-8841","cohort":"beta","email":"ann@customer.io","country":"NO","plan":"pro-annual","appVersion":"2.3.1","riskScore":55,"remoteAddress":"192.168.1.2","userAgent":"Mozilla/5.0","signup":"2024-03-01T10:00:00Z"}}'
echo "single answer: $(curl -fsS -H "X-API-Key: $sdk" -H 'Content-Type: application/json' -d "$body" "$base/ofrep/v1/evaluate/flags/bench-flag")"
lua=$(ofrep_script "$body" "$sdk")

echo "machine: $(nproc) cores, $(uname -m); server and wrk share them"
echo "== single flag: POST /ofrep/v1/evaluate/flags/bench-flag (wrk -t2 -c$conns -d${secs}s)"
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$lua" "$base/ofrep/v1/evaluate/flags/bench-flag" | grep -E 'Requests/sec|50%|90%|99%|Non-2xx|Socket errors|requests in'
echo "== bulk, 100 flags: POST /ofrep/v1/evaluate/flags (wrk -t2 -c$conns -d${secs}s)"
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$lua" "$base/ofrep/v1/evaluate/flags" | grep -E 'Requests/sec|50%|90%|99%|Non-2xx|Socket errors|requests in'
