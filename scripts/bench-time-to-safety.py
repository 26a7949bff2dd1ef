#!/usr/bin/env python3
"""Time to safety of automated rollback, through the real Prometheus: a canary of a new version
at 50 % with a background analysis is healthy and measured; then its sandbox profile turns bad
(errors, or latency) and the clock starts. Each run deploys a version of its own (`r1`, `r2`,
...), so the last run's bad samples, still inside the queries' one-minute window, do not count. It stops when every ready endpoint of the app's
Service is a v1 pod again, with nobody pressing anything. The release build starts its own
Prometheus scraping every second; analysis uses the seeded templates.

    scripts/bench-time-to-safety.py [runs]
"""

import statistics
import sys
import time

from benchlib import APP, BASE, Server, call, serving_versions, settled, wait

HEALTHY = {"errorRate": 0.002, "latencyP50Ms": 45, "latencyP99Ms": 180, "cpuMillicores": 120,
           "memoryMib": 160, "conversionRate": 0.05, "health": "healthy"}
CASES = {
    "errors: the canary answers 15 % of requests with a 500 (template error-rate, result < 1)":
        ("error-rate", dict(HEALTHY, errorRate=0.15)),
    "latency: the canary's median becomes 400 ms, p99 900 ms (template latency-p95, result < 300)":
        ("latency-p95", dict(HEALTHY, latencyP50Ms=400, latencyP99Ms=900)),
}


def profile(token, version, behaviour):
    call("PUT", f"{BASE}/api/v1/sandbox/profiles", token,
         {"namespace": "production", "app": "storefront", "version": version, "behaviour": behaviour})


def measured(token, deployment, n):
    runs = call("GET", f"{BASE}/api/v1/deployments/{deployment}/analysis-runs", token)
    good = [m for run in runs for metric in run["metrics"] for m in metric["measurements"]
            if m["phase"] == "successful"]
    return len(good) >= n


def measure(token, version, template, bad):
    profile(token, version, HEALTHY)
    d = call("POST", f"{BASE}{APP}/deployments", token, {
        "version": version, "analysis": [template],
        "strategy": {"type": "canary", "steps": [{"setWeight": 50}, {"pause": {}}]}})
    at_pause = lambda: call("GET", f"{BASE}/api/v1/deployments/{d['id']}", token)["deployment"]
    wait(f"the canary at 50 % (deployment #{d['id']})",
         lambda: at_pause()["waiting"] == "paused until someone promotes", timeout=60)
    wait("three good measurements of the canary", lambda: measured(token, d["id"], 3), timeout=90, every=0.5)
    profile(token, version, bad)
    started = time.monotonic()
    wait("traffic back on v1 alone", lambda: serving_versions() == {"v1"}, timeout=60, every=0.02)
    safe = time.monotonic()
    detail = call("GET", f"{BASE}/api/v1/deployments/{d['id']}", token)
    outcome = detail["deployment"]["stage"]
    if outcome != {"stage": "done", "step": "rolledBack"}:
        sys.exit(f"the deployment was not rolled back: {outcome}")
    wait("the app to settle", lambda: settled(token, "v1"))
    return (safe - started) * 1000


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with Server() as server:
        source = wait("the server's Prometheus", lambda: (lambda s: s if s["healthy"] else None)(
            call("GET", f"{BASE}/api/v1/environments/production/prometheus", server.token)), timeout=30)
        print(f"Prometheus {source['url']}, scrape every {source['scrapeSeconds']} s; {runs} runs each; "
              "time from the profile turning bad to all traffic on v1, in ms (median, min–max)")
        for c, (name, (template, bad)) in enumerate(CASES.items()):
            samples = [measure(server.token, f"r{c}-{i}", template, bad) for i in range(runs)]
            print(f"{name}: {statistics.median(samples):.0f} ({min(samples):.0f}–{max(samples):.0f})")


if __name__ == "__main__":
    main()
