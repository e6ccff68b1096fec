"""The guide's final check in a real browser: infra/relay-only-call.js in Chromium, through a real
coturn whose turnserver.conf scripts/configure-host wrote.

Ada's page gets the snippet before any of its scripts run (as pasting it in the console before
joining does) and then joins a call with Bob through the test call page (Tests/e2e/chromium,
which builds its peer connections like the web client: `new RTCPeerConnection` with the
iceServers of call.config). `parleyRelayReport()` must then say OK: every connection of Ada's
connected over a relayed candidate with bytes both ways, and coturn logged her allocations.
With a TURN secret that coturn does not share, the same check must say NOT OK.

coturn runs on loopback: configure-host's file with the addresses, ports and paths a loopback
test needs (as test_turn.py does with the shipped file), TLS off, loopback peers allowed.
"""
import functools
import http.server
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

import pytest
from aioice import stun

from chromium_launch import launch_chromium
from infra_deploy import Daemon, adapt_turnserver_conf
from parley_server import ARTIFACTS, ROOT, Server

PAGES = os.path.join(ROOT, "Tests", "e2e", "chromium")
SNIPPET = os.path.join(ROOT, "infra", "relay-only-call.js")


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stun_answered(port):
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3)
        sock.sendto(bytes(request), ("127.0.0.1", port))
        try:
            return stun.parse_message(sock.recv(2048)).transaction_id == request.transaction_id
        except (socket.timeout, ValueError):
            return False


class PageHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript", ".html": "text/html"}

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def pages():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(PageHandler, directory=PAGES))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def coturn():
    work = tempfile.mkdtemp(prefix="parley-ops-relay-")
    root = os.path.join(work, "root")
    os.makedirs(root)
    written = subprocess.run([os.path.join(ROOT, "scripts", "configure-host"), "--root", root, "--domain", "turn.parley-test.example",
                              "--public-ip", "127.0.0.1", "--private-ip", "127.0.0.1", "--allow-private-public-ip"],
                             capture_output=True, text=True, timeout=60)
    assert written.returncode == 0, written.stdout + written.stderr
    with open(os.path.join(root, "etc", "turnserver.conf")) as handle:
        generated = handle.read()
    secret = re.search(r"^static-auth-secret=(.+)$", generated, re.MULTILINE).group(1)
    port, log = free_port(socket.SOCK_DGRAM), os.path.join(work, "turnserver.log")
    config = adapt_turnserver_conf(generated, {
        "external-ip": None, "listening-port": port, "tls-listening-port": None, "cert": None, "pkey": None,
        "log-file": log, "pidfile": os.path.join(work, "turnserver.pid"), "userdb": os.path.join(work, "turndb"),
    }, drop=[r"^denied-peer-ip=127\.0\.0\.0-"], append=["allow-loopback-peers", "no-tls", "no-dtls", "verbose"])
    path = os.path.join(work, "turnserver.conf")
    with open(path, "w") as handle:
        handle.write(config)
    daemon = Daemon("ops-relay-coturn", ["turnserver", "-c", path])
    daemon.secret, daemon.port, daemon.log_file = secret, port, log
    try:
        daemon.wait_until(lambda: stun_answered(port), timeout=20, what="answering STUN")
        yield daemon
    finally:
        daemon.stop()
        if os.path.exists(log):
            shutil.copy(log, os.path.join(ARTIFACTS, "ops-relay-coturn-file.log"))
        shutil.rmtree(work, ignore_errors=True)


def open_call(driver, pages, server, token, conversation):
    query = urllib.parse.urlencode({"ws": server.ws_url, "token": token, "conversation": conversation, "simulcast": "0"})
    driver.get(f"{pages}/call.html?{query}")


@pytest.mark.parametrize("shared_secret", [True, False], ids=["relayed", "wrong-secret"])
def test_the_relay_only_snippet_reports_a_call_through_coturn(pages, coturn, shared_secret, request):
    secret = coturn.secret if shared_secret else "a-secret-coturn-does-not-know-" + "x" * 16
    server = Server(f"ops-relay-{request.node.callspec.id}", free_port(), {
        "RTC_PUBLIC_IP": "127.0.0.1", "ALLOWED_ORIGINS": pages, "TURN_SECRET": secret,
        "ICE_TURN_URLS": f"turn:127.0.0.1:{coturn.port}?transport=udp"})
    drivers, profiles = [], []
    try:
        (ada_id, ada_token), (bob_id, bob_token) = server.sign_up("Ada"), server.sign_up("Bob")
        status, group = server.call("POST", "/conversations", {"kind": "group", "title": "Relay", "memberIds": [bob_id]}, ada_token)
        assert status == 201, group
        for name in ("ada", "bob"):
            driver, profile = launch_chromium(f"parley-ops-relay-{name}-")
            drivers.append(driver)
            profiles.append(profile)
        ada, bob = drivers
        with open(SNIPPET) as handle:
            ada.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": handle.read()})
        open_call(ada, pages, server, ada_token, group["id"])
        open_call(bob, pages, server, bob_token, group["id"])

        deadline = time.monotonic() + (30 if shared_secret else 15)
        report = None
        while time.monotonic() < deadline:
            report = ada.execute_script("return window.parleyRelayReport();")
            if report["ok"] and len(report["rows"]) == 2:
                break
            time.sleep(1)
        if shared_secret:
            assert report["ok"] and len(report["rows"]) == 2, report   # publish and subscribe
            assert all(row["candidate"] == "relay" and row["relayProtocol"] == "udp" for row in report["rows"]), report
            with open(coturn.log_file, errors="replace") as handle:
                log = handle.read()
            assert re.search(rf"user <\d+:{ada_id}>.*ALLOCATE processed, success", log), log[-3000:]
            # Bob has no snippet: his connection is direct, so only Ada's media went through coturn.
            assert bob.execute_script("return typeof window.parleyRelayReport") == "undefined"
        else:
            assert report is not None and not report["ok"], report
            assert all(row["candidate"] == "none" and row["state"] != "connected" for row in report["rows"]), report
    finally:
        for driver in drivers:
            driver.quit()
        for profile in profiles:
            shutil.rmtree(profile, ignore_errors=True)
        server.stop()
