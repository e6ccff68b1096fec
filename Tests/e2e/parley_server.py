"""Starting and stopping real Parley processes for end-to-end tests, and small REST helpers."""
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("PARLEY_BIN", os.path.join(ROOT, ".build", "debug", "parley"))
ARTIFACTS = os.environ.get("PARLEY_ARTIFACTS", os.path.join(ROOT, "artifacts"))


class Server:
    """One `parley serve` process on loopback, stopped by PID."""

    def __init__(self, name, port, env, data_name=None):
        """`data_name` (default: `name`) names the data folder, so a restarted server can keep the
        database, JWT key and certificate of an earlier one while writing its own log."""
        self.name, self.port = name, port
        os.makedirs(ARTIFACTS, exist_ok=True)
        data = os.path.join(ARTIFACTS, f"{data_name or name}-data")
        environment = dict(os.environ, HOST="127.0.0.1", PORT=str(port), DATA_DIR=data, RTC_UDP_PORT="0",
                           AUTH_RATE_LIMIT="off", BCRYPT_COST="4", LOG_LEVEL="warning")
        environment.update(env)
        self.log = open(os.path.join(ARTIFACTS, f"{name}.log"), "w")
        self.process = subprocess.Popen([BINARY, "serve"], env=environment, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{name} did not become ready")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/ws"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    def call(self, method, path, body=None, token=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def sign_up(self, name):
        status, body = self.call("POST", "/auth/register", {
            "email": f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com", "password": "password123", "displayName": name})
        assert status == 201, body
        return body["user"]["id"], body["accessToken"]
