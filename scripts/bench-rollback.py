#!/usr/bin/env python3
"""Time to safety of a rollback: from pressing Rollback (the REST call the button makes) to the
previous version serving all of the sandbox's traffic, i.e. every ready endpoint of the app's
Service is a pod of the previous version. Measured for a canary, a Blue-Green within its
scale-down delay, and a finished Rolling update, against a release build with the sandbox's
default timings (pods ready 2 s after they start).

    scripts/bench-rollback.py [runs]
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.environ.get("VARAI_BIN", os.path.join(TARGET, "release", "varai"))
PORT, KUBE_PORT = 3198, 6498
BASE, KUBE = f"http://127.0.0.1:{PORT}", f"http://127.0.0.1:{KUBE_PORT}"
APP = "/api/v1/environments/production/apps/storefront"


def call(method, url, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as res:
        text = res.read()
        return json.loads(text) if text else None


def serving_versions():
    """Versions of the pods behind the ready endpoints of production/storefront."""
    ep = call("GET", f"{KUBE}/api/v1/namespaces/production/endpoints/storefront")
    versions = set()
    for subset in ep.get("subsets") or []:
        for address in subset.get("addresses") or []:
            pod = call("GET", f"{KUBE}/api/v1/namespaces/production/pods/{address['targetRef']['name']}")
            versions.add(pod["metadata"]["labels"].get("version"))
    return versions


def wait(what, check, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    sys.exit(f"timed out waiting for {what}")


def current_version(token):
    app = call("GET", f"{BASE}{APP}", token)
    primary = [v for v in app["versions"] if v["workload"] == "primary"]
    return primary[0]["version"] if primary else None


def settled(token, version):
    app = call("GET", f"{BASE}{APP}", token)
    vs = app["versions"]
    return app["deployment"] is None and len(vs) == 1 and vs[0]["version"] == version and vs[0]["ready"] == vs[0]["desired"]


def measure(token, strategy, ready_when):
    previous = current_version(token)
    new = "v3" if previous != "v3" else "v2"
    d = call("POST", f"{BASE}{APP}/deployments", token, {"version": new, "strategy": strategy})
    wait("the point to roll back at", lambda: ready_when(call("GET", f"{BASE}/api/v1/deployments/{d['id']}", token)["deployment"]))
    started = time.monotonic()
    result = call("POST", f"{BASE}{APP}/rollback", token, {"reason": "benchmark"})
    answered = time.monotonic()
    wait("the previous version to serve alone", lambda: serving_versions() == {previous}, timeout=30)
    safe = time.monotonic()
    wait("the app to settle", lambda: settled(token, previous))
    return (safe - started) * 1000, (answered - started) * 1000, result["durationMs"]


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    if not os.access(BIN, os.X_OK):
        sys.exit(f"no release build at {BIN}; run 'make release' first")
    data = tempfile.mkdtemp()
    env = dict(os.environ, RUST_LOG="warn", VARAI_ADMIN_PASSWORD="bench-admin-password-1")
    server = subprocess.Popen(
        [BIN, "--addr", f"127.0.0.1:{PORT}", "--data-dir", data, "--sandbox-addr", f"127.0.0.1:{KUBE_PORT}"],
        env=env, stdout=open(os.path.join(data, "server.log"), "w"), stderr=subprocess.STDOUT)
    try:
        wait("the server", lambda: _ready())
        out = subprocess.run([BIN, "admin", "create-token", "--role", "operator", "--name", "bench", "--data-dir", data],
                             capture_output=True, text=True, check=True).stdout
        token = next(w for w in out.split() if w.startswith("varai_"))
        wait("storefront v1", lambda: settled(token, "v1"))
        cases = {
            "Canary at 50 % (paused)": (
                {"type": "canary", "steps": [{"setWeight": 50}, {"pause": {}}]},
                lambda d: d["waiting"] == "paused until someone promotes"),
            "Blue-Green within the scale-down delay": (
                {"type": "blueGreen", "autoPromotionSeconds": 0, "scaleDownDelaySeconds": 600},
                lambda d: d["stage"]["stage"] == "scaleDownDelay"),
            "Rolling, after it finished": (
                {"type": "rolling", "maxSurge": 1, "maxUnavailable": 0},
                lambda d: d["stage"]["stage"] == "done"),
        }
        print(f"{runs} runs each; times in ms (median, min–max)")
        for name, (strategy, when) in cases.items():
            samples = [measure(token, strategy, when) for _ in range(runs)]
            safe = [s[0] for s in samples]
            answered = [s[1] for s in samples]
            print(f"{name}: all traffic on the previous version after {statistics.median(safe):.0f} "
                  f"({min(safe):.0f}–{max(safe):.0f}); the rollback call answered after "
                  f"{statistics.median(answered):.0f} ({min(answered):.0f}–{max(answered):.0f})")
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)


def _ready():
    try:
        return urllib.request.urlopen(f"{BASE}/readyz", timeout=1).status == 200
    except (urllib.error.URLError, ConnectionError):
        return False


if __name__ == "__main__":
    main()
