"""What the benchmark scripts share: a Parley on loopback with a data folder of its own and the
limits that would stop a load generator turned off, REST calls, and accounts made in bulk."""
import json
import os
import shutil
import subprocess
import time
import urllib.request
import uuid

# Limits a benchmark's many sign-ups and sends would run into; the budgets under test stay on.
BENCH_ENV = {"HOST": "127.0.0.1", "RTC_UDP_PORT": "0", "AUTH_RATE_LIMIT": "off", "BCRYPT_COST": "4",
             "LOG_LEVEL": "warning", "REGISTRATION": "open", "RATE_MESSAGES": "off"}


def call(base, method, path, body=None, token=None):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode() if body is not None else None, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def start_server(data, port, extra_env=None):
    """`PARLEY_BIN serve` (default .build/release/parley) on 127.0.0.1:`port` with a fresh `data`
    folder; returns (process, base URL) once it answers /readyz."""
    binary = os.path.abspath(os.environ.get("PARLEY_BIN", ".build/release/parley"))
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    env = dict(os.environ, **BENCH_ENV, PORT=str(port), DATA_DIR=data, **(extra_env or {}))
    server = subprocess.Popen([binary, "serve"], env=env, cwd=data)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/readyz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return server, base


def register(base, count, prefix):
    """`count` new accounts as (user id, access token)."""
    people = []
    for index in range(count):
        body = call(base, "POST", "/auth/register", {"email": f"{prefix}{index}-{uuid.uuid4().hex[:6]}@example.com",
                                                     "password": "password123", "displayName": f"{prefix.title()} {index}"})
        people.append((body["user"]["id"], body["accessToken"]))
    return people
