#!/usr/bin/env python3
"""Time to safety of a rollback: from pressing Rollback (the REST call the button makes) to the
previous version serving all of the sandbox's traffic, i.e. every ready endpoint of the app's
Service is a pod of the previous version. Measured for a canary, a Blue-Green within its
scale-down delay, and a finished Rolling update, against a release build with the sandbox's
default timings (pods ready 2 s after they start).

    scripts/bench-rollback.py [runs]
"""

import statistics
import sys
import time

from benchlib import APP, BASE, Server, call, serving_versions, settled, wait


def current_version(token):
    app = call("GET", f"{BASE}{APP}", token)
    primary = [v for v in app["versions"] if v["workload"] == "primary"]
    return primary[0]["version"] if primary else None


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
    with Server() as server:
        token = server.token
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


if __name__ == "__main__":
    main()
