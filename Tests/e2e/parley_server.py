"""Starting and stopping real Parley processes for end-to-end tests, and small REST helpers.

Every server here runs as shipped: the binary copied to a prefix the way the self-hosting
guide, the systemd unit and the Dockerfile install it (`/usr/local/bin/parley`, nothing
beside it), started in a mount namespace of its own where the build tree (`.build`), the
sources and `web/` are covered by empty read-only folders, from a working directory outside
the checkout. What the server needs at run time must therefore be in the binary itself.
"""
import contextlib
import json
import os
import shlex
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("PARLEY_BIN", os.path.join(ROOT, ".build", "debug", "parley"))
ARTIFACTS = os.environ.get("PARLEY_ARTIFACTS", os.path.join(ROOT, "artifacts"))
INSTALL_PREFIX = os.path.join(ARTIFACTS, "install")
# What an installed server cannot see: the build tree with SwiftPM's resource bundles, the
# sources and the web client's folder.
HIDDEN = [os.path.join(ROOT, name) for name in (".build", "Sources", "web")]


def installed_binary():
    """The binary installed as `install -m 0755 .build/release/parley /usr/local/bin/parley` does,
    under INSTALL_PREFIX (copied again when the build is newer)."""
    target = os.path.join(INSTALL_PREFIX, "usr", "local", "bin", "parley")
    if not os.path.exists(target) or os.path.getmtime(target) < os.path.getmtime(BINARY):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(BINARY, target + ".new")
        os.chmod(target + ".new", 0o755)
        os.replace(target + ".new", target)
    return target


def shipped(arguments):
    """The command line that runs the installed binary with `arguments`, the build tree out of
    reach. `unshare` and `sh` exec into Parley, so the process's PID is Parley's."""
    covers = " && ".join(f"mount -t tmpfs -o ro,size=4k,mode=0555 parley-hidden {shlex.quote(path)}"
                         for path in HIDDEN if os.path.isdir(path))
    namespace = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        namespace.insert(1, "--map-root-user")
    return namespace + ["sh", "-c", f"{covers or 'true'} && exec \"$0\" \"$@\"", installed_binary()] + list(arguments)


def run_shipped(arguments, env, timeout=30):
    """Runs a short command of the installed binary (`check`, a `serve` expected to refuse)."""
    environment = dict(os.environ, BCRYPT_COST="4", LOG_LEVEL="warning")
    environment.update(env)
    return subprocess.run(shipped(arguments), env=environment, capture_output=True, text=True, timeout=timeout, cwd="/")


class Server:
    """One `parley serve` process on loopback, stopped by PID."""

    def __init__(self, name, port, env, data_name=None):
        """`data_name` (default: `name`) names the data folder, so a restarted server can keep the
        database, JWT key and certificate of an earlier one while writing its own log."""
        self.name, self.port = name, port
        os.makedirs(ARTIFACTS, exist_ok=True)
        data = os.path.join(ARTIFACTS, f"{data_name or name}-data")
        environment = dict(os.environ, HOST="127.0.0.1", PORT=str(port), DATA_DIR=data, RTC_UDP_PORT="0",
                           AUTH_RATE_LIMIT="off", BCRYPT_COST="4", LOG_LEVEL="warning",
                           # The tests sign up many people; those about registration set it themselves.
                           REGISTRATION="open")
        environment.update(env)
        os.makedirs(data, exist_ok=True)
        self.log = open(os.path.join(ARTIFACTS, f"{name}.log"), "w")
        # Like the systemd unit (WorkingDirectory=/var/lib/parley): the data folder, not the checkout.
        self.process = subprocess.Popen(shipped(["serve"]), env=environment, stdout=self.log, stderr=subprocess.STDOUT,
                                        cwd=data)
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


@contextlib.contextmanager
def two_instances(name, first_port, env=None, database_url=None):
    """Two Parley processes on one PostgreSQL (`database_url`, by default the database of
    PARLEY_MULTI_POSTGRES_URL) with one JWT key, on `first_port` and the port after it; both
    stopped by PID afterwards."""
    url = database_url or os.environ.get("PARLEY_MULTI_POSTGRES_URL")
    assert url, "PARLEY_MULTI_POSTGRES_URL must name a PostgreSQL database (scripts/test creates one)"
    shared = {"DATABASE_URL": url, "JWT_SIGNING_KEY": f"{name}-test-key-of-at-least-32-bytes", **(env or {})}
    first = Server(f"{name}-a", first_port, shared)
    try:
        second = Server(f"{name}-b", first_port + 1, shared)
    except Exception:
        first.stop()
        raise
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()
