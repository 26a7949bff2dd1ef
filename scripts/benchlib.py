"""Helpers the benchmark scripts share: a release server with a fresh data folder, an API
token, REST calls and polling, and which versions serve the sandbox's production storefront."""

import json
import os
import shutil
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


def wait(what, check, timeout=60, every=0.05):
    """Polls `check` until it returns something true; exits naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    sys.exit(f"timed out waiting for {what}: last saw {value!r}")


def settled(token, version):
    app = call("GET", f"{BASE}{APP}", token)
    vs = app["versions"]
    return app["deployment"] is None and len(vs) == 1 and vs[0]["version"] == version and vs[0]["ready"] == vs[0]["desired"]


def _ready():
    try:
        return urllib.request.urlopen(f"{BASE}/readyz", timeout=1).status == 200
    except (urllib.error.URLError, ConnectionError):
        return False


class Server:
    """A release server on a fresh data folder, with an operator's API token."""

    def __enter__(self):
        if not os.access(BIN, os.X_OK):
            sys.exit(f"no release build at {BIN}; run 'make release' first")
        self.data = tempfile.mkdtemp()
        env = dict(os.environ, RUST_LOG="warn", VARAI_ADMIN_PASSWORD="bench-admin-password-1")
        self.process = subprocess.Popen(
            [BIN, "--addr", f"127.0.0.1:{PORT}", "--data-dir", self.data, "--sandbox-addr", f"127.0.0.1:{KUBE_PORT}"],
            env=env, stdout=open(os.path.join(self.data, "server.log"), "w"), stderr=subprocess.STDOUT)
        wait("the server", _ready)
        out = subprocess.run([BIN, "admin", "create-token", "--role", "operator", "--name", "bench", "--data-dir", self.data],
                             capture_output=True, text=True, check=True).stdout
        self.token = next(w for w in out.split() if w.startswith("varai_"))
        wait("storefront v1", lambda: settled(self.token, "v1"))
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=15)
        shutil.rmtree(self.data, ignore_errors=True)
