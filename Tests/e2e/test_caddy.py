"""The shipped Caddyfile in front of a real Parley (issue 7): it validates, and through it REST,
the WebSocket, compression, security headers and caching work as the guide promises.

Caddy runs on loopback with its own local CA instead of ACME: test options (ports, storage,
admin, the local CA) are added at the top of the shipped global options block, and everything
else, the global `log` filter included, runs unchanged. With Parley down, Caddy's error log
records a failed /ws?token=... request without the token.
At the end, checks of the other deployment files: the example environment file names every
variable of the README and Parley starts with it, and compose.yaml wires what the guide says.
"""
import asyncio
import gzip
import json
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest
import websockets

from infra_deploy import (CADDYFILE, Daemon, caddy_root_certificate, caddyfile_for_test, https_context, https_ready,
                          isolated_environment)
from parley_server import ROOT, Server

PARLEY_PORT, HTTPS_PORT, HTTP_PORT, ADMIN_PORT = 18491, 18492, 18493, 18494
# A second Caddy whose upstream is a port nothing listens on, for the log test.
DOWN_HTTPS_PORT, DOWN_HTTP_PORT, DOWN_ADMIN_PORT, DOWN_UPSTREAM_PORT = 18481, 18482, 18483, 18484
# `localhost` resolves to loopback and Caddy's local CA issues a certificate for it, so the
# TLS name (SNI), the certificate and the Host header all agree, as they do for a real domain.
DOMAIN = "localhost"
ORIGIN = f"https://{DOMAIN}:{HTTPS_PORT}"
BASE = ORIGIN


def test_the_shipped_caddyfile_validates():
    with tempfile.TemporaryDirectory() as home:
        result = subprocess.run(["caddy", "validate", "--config", CADDYFILE, "--adapter", "caddyfile"],
                                env=isolated_environment(home, PARLEY_DOMAIN="chat.example.com"),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Valid configuration" in result.stdout + result.stderr


def start_caddy(work, name, ports, upstream, ready):
    """Caddy with the test Caddyfile under `work`; returns (daemon, root certificate)."""
    storage, home = os.path.join(work, "storage"), os.path.join(work, "home")
    config = os.path.join(work, "Caddyfile")
    admin, http, https = ports
    with open(config, "w") as handle:
        handle.write(caddyfile_for_test(storage, admin, http, https))
    caddy = Daemon(name, ["caddy", "run", "--config", config, "--adapter", "caddyfile"],
                   env=isolated_environment(home, PARLEY_DOMAIN=DOMAIN, PARLEY_UPSTREAM=upstream))
    root = caddy_root_certificate(storage)
    try:
        caddy.wait_until(lambda: ready(root), timeout=30, what="serving HTTPS")
    except BaseException:
        caddy.stop()
        raise
    return caddy, root


@pytest.fixture(scope="module")
def stack():
    """Parley (with a web root holding a versioned script) behind Caddy on loopback."""
    work = tempfile.mkdtemp(prefix="parley-caddy-")
    web = os.path.join(work, "web")
    os.makedirs(os.path.join(web, "js"))
    with open(os.path.join(web, "index.html"), "w") as handle:
        handle.write("<!doctype html><title>Parley</title><script src=\"/js/app.js?v=dev\"></script>\n")
    with open(os.path.join(web, "js", "app.js"), "w") as handle:
        handle.write("// the client\n" + "console.log('parley');\n" * 200)
    # Parley takes files up to 30 MiB here, more than the Caddyfile's default 25 MiB, so the
    # upload test sees which of the two stops a larger body.
    parley = Server("caddy-parley", PARLEY_PORT, {"WEB_ROOT": web, "ATTACHMENT_MAX_BYTES": str(30 * 1024 * 1024)})
    caddy = None
    try:
        caddy, root = start_caddy(work, "caddy", (ADMIN_PORT, HTTP_PORT, HTTPS_PORT), f"127.0.0.1:{PARLEY_PORT}",
                                  lambda root: https_ready(f"{BASE}/healthz", root))
        yield parley, root
    finally:
        if caddy is not None:
            caddy.stop()
        parley.stop()
        shutil.rmtree(work, ignore_errors=True)


def fetch(root, path, method="GET", body=None, headers=None):
    """(status, headers, raw body) of an HTTPS request through Caddy; the body is not decoded."""
    request = urllib.request.Request(BASE + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10, context=https_context(root)) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def sign_up(root, name):
    status, _, body = fetch(root, "/auth/register", "POST", {
        "email": f"{name.lower()}-{os.urandom(4).hex()}@example.com", "password": "password123", "displayName": name})
    assert status == 201, body
    reply = json.loads(body)
    return reply["user"]["id"], reply["accessToken"]


def test_rest_calls_pass_through_caddy(stack):
    _, root = stack
    user_id, token = sign_up(root, "Ada")
    status, headers, body = fetch(root, "/users/me", headers={"Authorization": f"Bearer {token}"})
    assert status == 200, body
    assert json.loads(body)["id"] == user_id
    assert headers["Strict-Transport-Security"] == "max-age=31536000"


def put_body(root, url, size, content_type):
    """PUT `size` bytes to `url` through Caddy, streamed in 1 MiB pieces (not held whole), without
    a Content-Length (chunked), so only counting the bytes can stop it."""
    def pieces():
        left = size
        while left > 0:
            piece = min(left, 1 << 20)
            yield b"\0" * piece
            left -= piece
    request = urllib.request.Request(url, method="PUT", data=pieces(),
                                     headers={"Content-Type": content_type, "Transfer-Encoding": "chunked"})
    try:
        with urllib.request.urlopen(request, timeout=60, context=https_context(root)) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_uploads_up_to_attachment_max_bytes_pass_and_larger_bodies_stop_at_caddy(stack):
    """The Caddyfile's request body limit is ATTACHMENT_MAX_BYTES, by default Parley's default
    25 MiB: a file of exactly that size uploads through Caddy; a larger body, which this Parley
    (set to 30 MiB) would take, is refused by Caddy itself with 413."""
    with open(CADDYFILE) as handle:
        assert "max_size {$ATTACHMENT_MAX_BYTES:26214400}" in handle.read()
    _, root = stack
    ada_id, ada = sign_up(root, "Ada")
    bob_id, _ = sign_up(root, "Bob")
    auth = {"Authorization": f"Bearer {ada}"}
    status, _, body = fetch(root, "/conversations", "POST", {"kind": "dm", "userId": bob_id}, auth)
    conversation = json.loads(body)["id"]
    limit = 25 * 1024 * 1024
    def announce(size):
        status, _, body = fetch(root, f"/conversations/{conversation}/attachments", "POST",
                                {"name": "big.bin", "size": size, "contentType": "application/octet-stream"}, auth)
        assert status == 201, body
        return json.loads(body)["upload"]["url"]
    larger = announce(limit + 1024 * 1024)
    assert larger.startswith(f"{BASE}/attachments/"), larger
    status, body = put_body(root, larger, limit + 1024 * 1024, "application/octet-stream")
    assert status == 413, (status, body)
    assert b"size_mismatch" not in body, "refused by Caddy, not by Parley"
    status, body = put_body(root, announce(limit), limit, "application/octet-stream")
    assert status == 204, (status, body)


def test_a_websocket_session_passes_through_caddy(stack):
    _, root = stack
    _, token = sign_up(root, "Bob")

    async def session():
        context = ssl.create_default_context(cafile=root)
        # A browser on the site sends its https origin; Parley compares it with the Host
        # header, which Caddy passes through unchanged.
        async with websockets.connect(f"wss://{DOMAIN}:{HTTPS_PORT}/ws", ssl=context, origin=ORIGIN) as socket:
            await socket.send(json.dumps({"type": "auth", "id": "a", "data": {"token": token}}))
            assert json.loads(await asyncio.wait_for(socket.recv(), 5))["type"] == "auth.success"
            await socket.send(json.dumps({"type": "ping", "id": "p", "data": {}}))
            while True:
                frame = json.loads(await asyncio.wait_for(socket.recv(), 5))
                if frame["type"] == "pong":
                    assert frame.get("id") == "p"
                    break

    asyncio.run(session())


def test_a_foreign_origin_is_still_refused_behind_caddy(stack):
    _, root = stack
    _, token = sign_up(root, "Eve")

    async def session():
        context = ssl.create_default_context(cafile=root)
        async with websockets.connect(f"wss://{DOMAIN}:{HTTPS_PORT}/ws", ssl=context,
                                      origin="https://evil.example") as socket:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await socket.send(json.dumps({"type": "auth", "id": "a", "data": {"token": token}}))
                while True:
                    await asyncio.wait_for(socket.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

    asyncio.run(session())


def test_responses_are_compressed_with_zstd_or_gzip(stack):
    _, root = stack
    plain_status, _, plain = fetch(root, "/openapi.yaml", headers={"Accept-Encoding": "identity"})
    assert plain_status == 200 and len(plain) > 1024
    status, headers, body = fetch(root, "/openapi.yaml", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == plain and len(body) < len(plain) / 2
    status, headers, body = fetch(root, "/openapi.yaml", headers={"Accept-Encoding": "gzip, zstd"})
    assert status == 200 and headers["Content-Encoding"] == "zstd"
    assert body[:4] == b"\x28\xb5\x2f\xfd" and len(body) < len(plain) / 2  # the zstd frame magic


def test_security_headers_are_added_without_replacing_parleys(stack):
    _, root = stack
    status, headers, _ = fetch(root, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    # Parley's own headers arrive once and unchanged, its CSP included.
    assert headers.get_all("X-Content-Type-Options") == ["nosniff"]
    assert headers.get_all("Referrer-Policy") == ["no-referrer"]
    assert headers.get_all("X-Frame-Options") == ["DENY"]
    csp = headers.get_all("Content-Security-Policy")
    assert csp is not None and len(csp) == 1 and "default-src 'none'" in csp[0] and "frame-ancestors 'none'" in csp[0]
    assert headers["Cache-Control"] == "no-cache"
    assert headers.get("Server") is None


def test_versioned_static_files_are_cached_for_a_year(stack):
    _, root = stack
    _, _, page = fetch(root, "/", headers={"Accept-Encoding": "identity"})
    version = re.search(rb'/js/app\.js\?v=([0-9a-f]{12})"', page).group(1).decode()
    status, headers, _ = fetch(root, f"/js/app.js?v={version}")
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # The same file without a version or with another one (an old release's URL), and the
    # HTML page even with the version, are not.
    for path in ("/js/app.js", "/js/app.js?v=0123456789ab"):
        _, headers, _ = fetch(root, path)
        assert "immutable" not in (headers.get("Cache-Control") or ""), path
    _, headers, _ = fetch(root, f"/?v={version}")
    assert headers["Cache-Control"] == "no-cache"
    # API answers are untouched.
    _, headers, _ = fetch(root, "/healthz?v=1")
    assert "immutable" not in (headers.get("Cache-Control") or "")


def test_metrics_are_not_public(stack):
    parley, root = stack
    status, headers, _ = fetch(root, "/metrics")
    assert status == 404
    # An answer of Caddy's own: the headers Parley would have set are filled in by Caddy.
    assert headers.get_all("X-Content-Type-Options") == ["nosniff"] and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Strict-Transport-Security"] == "max-age=31536000"
    with urllib.request.urlopen(f"{parley.url}/metrics", timeout=5) as response:
        assert b"parley_media_packets_forwarded_total" in response.read()


def test_plain_http_redirects_to_https(stack):
    _, root = stack

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(f"http://{DOMAIN}:{HTTP_PORT}/users/me", timeout=5)
    assert redirect.value.code in (301, 308)
    # (Caddy 2.6 leaves a non-standard https_port out of the redirect; in production it is 443.)
    assert redirect.value.headers["Location"] in (f"https://{DOMAIN}/users/me", f"https://{DOMAIN}:{HTTPS_PORT}/users/me")


def logged_errors(caddy, uri_prefix):
    """Caddy's error-log entries (JSON lines) for requests whose URI starts with `uri_prefix`,
    waiting up to 5 s for the first."""
    entries = []
    deadline = time.time() + 5
    while not entries and time.time() < deadline:
        entries = [entry for entry in (json.loads(line) for line in caddy.output().splitlines() if line.startswith("{"))
                   if entry.get("logger", "").startswith("http.log.error")
                   and entry.get("request", {}).get("uri", "").startswith(uri_prefix)]
        time.sleep(0.1)
    return entries


def test_caddys_log_keeps_no_access_token_when_parley_is_down():
    """A WebSocket upgrade with ?token= (and a Bearer header) that Caddy cannot proxy: Caddy logs
    the failure with the request, but neither token, while the rest of the URI stays; and an
    upload URL's signature likewise."""
    token, bearer = "tok-" + os.urandom(12).hex(), "bearer-" + os.urandom(12).hex()
    work = tempfile.mkdtemp(prefix="parley-caddy-down-")
    base = f"https://{DOMAIN}:{DOWN_HTTPS_PORT}"

    def answers(root):
        # Parley is not there, so "ready" is any HTTP answer over TLS (a 502).
        if not os.path.exists(root):
            return False
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2, context=https_context(root))
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, ConnectionError, ssl.SSLError, TimeoutError):
            return False
        return True

    caddy = None
    try:
        caddy, root = start_caddy(work, "caddy-down", (DOWN_ADMIN_PORT, DOWN_HTTP_PORT, DOWN_HTTPS_PORT),
                                  f"127.0.0.1:{DOWN_UPSTREAM_PORT}", answers)
        request = urllib.request.Request(f"{base}/ws?token={token}&v=7", headers={
            "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": f"https://{DOMAIN}",
            "Authorization": f"Bearer {bearer}"})
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(request, timeout=10, context=https_context(root))
        assert failed.value.code == 502
        entries = logged_errors(caddy, "/ws")
        assert entries, caddy.output()[-3000:]
        assert entries[0]["request"]["uri"] == "/ws?v=7" and entries[0]["status"] == 502, entries[0]
        # (Caddy 2.6 logs credential headers with an empty value unless `log_credentials` is set.)
        assert entries[0]["request"]["headers"]["Authorization"] == [], entries[0]
        # An attachment's upload URL carries its permission as `signature`: kept out the same way.
        signature = "sig" + os.urandom(16).hex()
        upload = urllib.request.Request(f"{base}/attachments/att_x/content?expires=99&signature={signature}",
                                        method="PUT", data=b"bytes", headers={"Content-Type": "text/plain"})
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(upload, timeout=10, context=https_context(root))
        assert failed.value.code == 502
        uploads = logged_errors(caddy, "/attachments/")
        assert uploads and uploads[0]["request"]["uri"] == "/attachments/att_x/content?expires=99", uploads
        output = caddy.output()
        assert token not in output and bearer not in output and signature not in output
    finally:
        if caddy is not None:
            caddy.stop()
        shutil.rmtree(work, ignore_errors=True)


# The other deployment files: the example environment and compose.yaml.

ENV_EXAMPLE = os.path.join(ROOT, "infra", "systemd", "parley.env.example")


def example_environment():
    """name -> value of the example env file, commented-out variables included."""
    values = {}
    for line in open(ENV_EXAMPLE):
        match = re.match(r"^#?([A-Z][A-Z0-9_]+)=(.*)$", line.strip())
        if match:
            values[match.group(1)] = match.group(2)
    return values


def test_the_example_environment_names_every_configuration_variable():
    with open(os.path.join(ROOT, "README.md")) as handle:
        readme = handle.read()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = {name for row in table.splitlines() if row.startswith("| `")
                  for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}
    assert len(documented) >= 15, documented
    assert documented <= set(example_environment()), documented - set(example_environment())


def test_parley_starts_with_the_example_environment():
    values = {name: value for name, value in example_environment().items()
              if name not in ("PORT", "RTC_UDP_PORT", "DATA_DIR", "WEB_ROOT", "DATABASE_URL", "JWT_SIGNING_KEY", "BCRYPT_COST")}
    values = {name: value.replace("CHANGE-ME-public-ip", "127.0.0.1").replace("CHANGE-ME", "example-secret-0123456789abcdef")
              for name, value in values.items()}
    server = Server("env-example", 18499, values)   # Server stops the test if Parley refuses a value
    try:
        status, body = server.call("GET", "/readyz")
        assert status == 200, body
    finally:
        server.stop()


def test_compose_runs_parley_on_postgres_with_coturn():
    import yaml
    with open(os.path.join(ROOT, "compose.yaml")) as handle:
        compose = yaml.safe_load(handle)
    services = compose["services"]
    assert services["postgres"]["image"] == "postgres:15" and "healthcheck" in services["postgres"]
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in services["postgres"]["volumes"])
    parley = services["parley"]
    assert parley["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert parley["environment"]["DATABASE_URL"].startswith("postgres://parley:") and "@postgres:5432/" in parley["environment"]["DATABASE_URL"]
    assert "JWT_SIGNING_KEY" in parley["environment"] and parley["env_file"] == ["parley.env"]
    assert {"7882:7882/udp", "7882:7882/tcp"} <= set(parley["ports"])
    assert services["coturn"]["network_mode"] == "host"
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith("./") or source in compose["volumes"], (name, volume)
        for network in service.get("networks") or {}:
            assert network in compose["networks"], (name, network)
