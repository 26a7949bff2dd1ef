#!/usr/bin/env bash
# Schema fuzzing of both HTTP APIs against a release build on loopback, with schemathesis
# (PyPI, installed by scripts/setup.sh --test into $VARAI_TOOLS/venv):
#   - the REST API's own document (/api/v1/openapi.json) with an admin token;
#   - OFREP's specification (specs/ofrep-openapi.yaml, Apache-2.0, from open-feature/protocol) with an SDK key.
# Fails on any 5xx, any status, content type, header or body outside the document, and any
# schema-valid request refused (400, 413, 415; 422 only where the operation documents the
# rules across fields it stands for). CONTRACT_EXAMPLES cases per operation (25),
# at most CONTRACT_SECONDS per API (90).
#   scripts/api-contract.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tools=${VARAI_TOOLS:-$HOME/.cache/varai}
st="$tools/venv/bin/st"
[ -x "$st" ] || { echo "schemathesis is missing; run 'scripts/setup.sh --test'" >&2; exit 1; }
seconds=${CONTRACT_SECONDS:-90}

SERVER_PORT=${CONTRACT_PORT:-3198}
SERVER_TOKEN_NAME=contract
# The sandbox keeps running so deployments and metrics have a cluster to answer.
# shellcheck source=scripts/serverlib.sh
source scripts/serverlib.sh
sdk=$(sdk_key)
# A flag, so OFREP evaluations find something besides FLAG_NOT_FOUND.
api -X POST "$base/api/v1/flags" -d '{"key":"contract-flag","name":"Contract","valueType":"boolean",
 "variants":[{"name":"on","value":true},{"name":"off","value":false}],
 "environments":{"production":{"enabled":true,"defaultVariant":"on","offVariant":"off"}}}' >/dev/null

report="${CONTRACT_REPORT:-$data/report}"
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,positive_data_acceptance
# A fixed seed and number of cases per operation, so every run sends the same requests; the
# time budget only caps a slow machine.
common=(--checks "$checks" --max-examples "${CONTRACT_EXAMPLES:-25}" --max-time "$seconds" --seed 13 --workers 1 --request-timeout 10
  --phases examples,coverage,fuzzing --suppress-health-check all --warnings off --report ndjson --report-dir "$report")

# The OFREP document lists a successful value's types under `oneOf`, but an integer value is
# also a float, and `codeDefaultFlag` (meant to have no `value`) admits every object, so no
# success could ever match exactly one. Judge responses by the document's stated intent:
# any one of the types, and a code default only without a value.
ofrep_spec="$data/ofrep-openapi.yaml"
"$tools/venv/bin/python" - specs/ofrep-openapi.yaml "$ofrep_spec" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
schemas = doc["components"]["schemas"]
for part in schemas["evaluationSuccess"]["allOf"]:
    if "oneOf" in part:
        part["anyOf"] = part.pop("oneOf")
schemas["codeDefaultFlag"]["not"] = {"required": ["value"]}
yaml.safe_dump(doc, open(sys.argv[2], "w"), sort_keys=False)
PY

# A schema-valid body whose fields contradict each other (a default variant that is not among
# the variants) is answered 422, and the operations that can answer it say so in words.
config="$data/schemathesis.toml"
cat > "$config" <<'TOML'
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
TOML

status=0
echo "== REST API: $base/api/v1/openapi.json (admin token, ${seconds}s)"
# specs/api-contract-baseline.json lists the operations whose schema-valid bodies are still
# refused (their documents have rules across fields); any other failure fails the run.
"$st" --config-file "$config" run "$base/api/v1/openapi.json" -H "Authorization: Bearer $token" "${common[@]}" \
  --baseline specs/api-contract-baseline.json ${CONTRACT_BASELINE_UPDATE:+--baseline-update} \
  --exclude-path '/api/v1/tokens/{id}' || status=1
echo "== OFREP: specs/ofrep-openapi.yaml (SDK key, ${seconds}s)"
"$st" --config-file "$config" run "$ofrep_spec" --url "$base" -H "X-API-Key: $sdk" "${common[@]}" || status=1
if [ "$status" != 0 ]; then
  echo "server log (last 40 lines):"; tail -40 "$data/server.log"
fi
exit "$status"
