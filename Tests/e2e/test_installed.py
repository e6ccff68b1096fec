"""The server as the self-hosting guide, the systemd unit and the Dockerfile install it.

`parley_server.Server` runs every end-to-end test's server from an installed copy of the
binary with the build tree covered; this file checks that the covering really holds, and
drives every route family there (the OpenAPI document, the web client, REST, a WebSocket, a
call's signaling) plus the configuration checks the guide relies on. A server that looked
for anything in its build tree would fail here (before the fix, one `GET /openapi.yaml`
ended the process: SwiftPM's resource bundle was not beside the installed binary).
"""
import asyncio
import os
import re
import urllib.request

import pytest

from parley_server import HIDDEN, ROOT, Server, run_shipped
from ws_client import Client

FIXTURE = os.path.join(ROOT, "Tests", "CodecTestSupport", "Fixtures", "chromium-publish.sdp")


@pytest.fixture(scope="module")
def server():
    instance = Server("installed", 18601, {"RTC_PUBLIC_IP": "127.0.0.1"})
    yield instance
    instance.stop()


def get(server, path):
    with urllib.request.urlopen(server.url + path, timeout=10) as response:
        return response.status, response.headers, response.read()


def test_the_build_tree_is_out_of_reach(server):
    pid = server.process.pid
    executable = os.readlink(f"/proc/{pid}/exe")
    assert executable.endswith("/install/usr/local/bin/parley"), executable
    assert not executable.startswith(os.path.join(ROOT, ".build"))
    # The process's own view of the file system: /proc/PID/root resolves in its mount namespace.
    for path in HIDDEN:
        assert os.listdir(f"/proc/{pid}/root{path}") == [], f"{path} is visible to the installed server"
    assert os.readlink(f"/proc/{pid}/cwd").endswith("installed-data")


def test_openapi_and_the_web_client_come_from_the_binary(server):
    for _ in range(50):  # once crashed the process; many times must not
        status, headers, body = get(server, "/openapi.yaml")
        assert status == 200 and body.startswith(b"openapi: 3.1")
    with open(os.path.join(ROOT, "Sources", "ChatAPI", "openapi.yaml"), "rb") as handle:
        assert body == handle.read()
    status, headers, page = get(server, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    version = re.search(rb'/js/app\.js\?v=([0-9a-f]{12})', page)
    assert version, page[:300]
    status, headers, script = get(server, f"/js/app.js?v={version.group(1).decode()}")
    assert status == 200 and "immutable" in headers["Cache-Control"] and len(script) > 100
    for path in ("/css/app.css", "/js/chat.js", "/js/call.js"):
        assert get(server, path)[0] == 200
    assert server.process.poll() is None


def test_rest_websocket_and_call_signaling(server):
    asyncio.run(_chat_and_call(server))
    assert server.process.poll() is None, "the installed server ended"


async def _chat_and_call(server):
    ada, ada_token = server.sign_up("Ada")
    bob, bob_token = server.sign_up("Bob")
    status, group = server.call("POST", "/conversations", {"kind": "group", "title": "Installed", "memberIds": [bob]},
                                token=ada_token)
    assert status == 201, group
    conversation = group["id"]
    status, sent = server.call("POST", f"/conversations/{conversation}/messages", {"content": "over REST"}, token=ada_token)
    assert status == 201, sent

    socket = await Client.connect(server.ws_url, bob_token)
    try:
        await socket.send("message.send", {"conversationId": conversation, "content": "over the socket",
                                           "clientMsgId": "installed-1"}, id="m1")
        assert (await socket.next("message.sent"))["data"]["message"]["content"] == "over the socket"
        status, page = server.call("GET", f"/conversations/{conversation}/messages", token=ada_token)
        assert status == 200 and [m["content"] for m in page["messages"]] == ["over REST", "over the socket"]

        await socket.send("call.join", {"conversationId": conversation}, id="join")
        config = await socket.next("call.config")
        assert config["id"] == "join" and config["data"]["conversationId"] == conversation
        await socket.next("call.participants")
        with open(FIXTURE) as handle:
            offer = handle.read()
        await socket.send("call.publish", {"conversationId": conversation, "sdp": offer}, id="publish")
        answer = await socket.next("call.publish.answer", timeout=10)
        assert "a=ice-lite" in answer["data"]["sdp"] and "a=fingerprint:sha-256" in answer["data"]["sdp"]
        # The announced address is the configured one, in the answer's candidates.
        assert re.search(r"a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host", answer["data"]["sdp"])
        status, call = server.call("GET", f"/conversations/{conversation}/call", token=ada_token)
        assert status == 200 and call["active"] and [p["userId"] for p in call["participants"]] == [bob]
        await socket.send("call.leave", {"conversationId": conversation})
    finally:
        await socket.close()


@pytest.mark.parametrize("variable", ["RTC_PUBLIC_IP", "TURN_SECRET", "ICE_TURN_URLS"])
def test_a_blank_value_stops_the_start_naming_it(variable, tmp_path):
    env = {"DATA_DIR": str(tmp_path), "HOST": "127.0.0.1", "PORT": "18602", "RTC_UDP_PORT": "0",
           "TURN_SECRET": "turn-secret-0123456789abcdef", "ICE_TURN_URLS": "turn:127.0.0.1:3478", variable: ""}
    result = run_shipped(["serve"], env)
    assert result.returncode == 78, (result.returncode, result.stdout, result.stderr)
    assert f"{variable}: is set but empty" in result.stderr


def test_check_reads_the_environment_file_and_reports(tmp_path):
    env_file = tmp_path / "parley.env"
    env_file.write_text("# as the guide writes it\nRTC_PUBLIC_IP=203.0.113.7\nRTC_UDP_PORT=18603\n"
                        "DATA_DIR=/var/lib/parley\nexport LOG_LEVEL=\"info\"\n")
    result = run_shipped(["check", "--env-file", str(env_file)], {})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "203.0.113.7 (RTC_PUBLIC_IP)" in result.stdout
    assert "ok   media port 18603 binds (UDP and TCP)" in result.stdout
    assert "TURN URLs           none" in result.stdout

    # The port taken: check says so and fails.
    import socket
    taken = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    taken.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    taken.bind(("::", 18603))
    try:
        result = run_shipped(["check", "--env-file", str(env_file)], {})
        assert result.returncode == 1 and "FAIL cannot bind the media port 18603/udp" in result.stdout, result.stdout
        assert run_shipped(["check", "--skip-port", "--env-file", str(env_file)], {}).returncode == 0
    finally:
        taken.close()

    # What a lost shell variable leaves behind.
    env_file.write_text("RTC_PUBLIC_IP=\nRTC_UDP_PORT=18603\n")
    result = run_shipped(["check", "--env-file", str(env_file)], {})
    assert result.returncode == 1 and "FAIL RTC_PUBLIC_IP: is set but empty" in result.stdout, result.stdout
    env_file.write_text("RTC_PUBLIC_IP 203.0.113.7\n")
    result = run_shipped(["check", "--env-file", str(env_file)], {})
    assert result.returncode == 1 and "line 1: expected NAME=value" in result.stdout, result.stdout
