"""Two headless Chromium instances in one Parley call through the SFU (issue: SFU calls with real browsers).

Each browser runs Tests/e2e/chromium/call.html, which speaks the /ws call protocol with call.js:
it publishes Chromium's fake microphone (Opus) and fake camera (VP8, 640x480 at 20 fps; as one
encoding, and as simulcast with rids h/m/l) and subscribes to the other's tracks. The test reads getStats() in both pages and holds the server to:
each browser decodes the other's video and audio, and a participant leaving is seen by the other.
"""
import contextlib
import functools
import http.server
import json
import os
import shutil
import socket
import threading
import time
import urllib.parse
import urllib.request

import pytest

from chromium_launch import launch_chromium
from parley_server import ARTIFACTS, Server

PAGES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chromium")
NAME = "call-chromium"
SAMPLE_RATE = 48000


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PageHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the test pages; module scripts need a JavaScript MIME type whatever /etc/mime.types says."""
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript", ".html": "text/html"}

    def log_message(self, format, *args):
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


@pytest.fixture
def pages():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(PageHandler, directory=PAGES))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def server(pages, request):
    instance = Server(f"{NAME}-{request.node.callspec.id}", free_port(), {"RTC_PUBLIC_IP": "127.0.0.1", "ALLOWED_ORIGINS": pages})
    yield instance
    instance.stop()


class Browser:
    """One headless Chromium with its own profile, showing call.html for one user."""

    def __init__(self, name, artifact):
        self.name, self.artifact = name, artifact
        self.driver, self.profile = launch_chromium(f"parley-chromium-{name.lower()}-", ["--window-size=1100,800"])

    def open(self, pages, server, token, conversation_id, simulcast):
        query = urllib.parse.urlencode({"ws": server.ws_url, "token": token, "conversation": conversation_id,
                                        "simulcast": "1" if simulcast else "0"})
        self.driver.get(f"{pages}/call.html?{query}")

    def js(self, expression):
        """The value of a JavaScript expression in the page (promises are awaited by WebDriver)."""
        return self.driver.execute_script(f"return {expression};")

    def wait(self, description, predicate, timeout, detail=lambda: ""):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            errors = self.js("window.parleyTest ? window.parleyTest.errors : ['no parleyTest']")
            assert not errors, f"{self.name}: page errors while waiting for {description}: {errors}"
            assert time.monotonic() < deadline, f"{self.name}: no {description} within {timeout}s; {detail()}"
            time.sleep(0.25)

    def save_screenshot(self):
        self.driver.save_screenshot(os.path.join(ARTIFACTS, f"{self.artifact}-{self.name.lower()}.png"))

    def save_diagnostics(self):
        """Console output, frames and stats of the page, for a failed run."""
        path = os.path.join(ARTIFACTS, f"{self.artifact}-{self.name.lower()}-console.log")
        with open(path, "w") as out:
            with contextlib.suppress(Exception):
                for entry in self.driver.get_log("browser"):
                    out.write(f"[{entry['level']}] {entry['message']}\n")
            with contextlib.suppress(Exception):
                state = self.js("""(async () => {
                    const t = window.parleyTest;
                    return {state: t.state, errors: t.errors, log: t.log, remote: t.remote, frames: t.frames,
                            publishConnection: t.publishConnection, subscribeConnection: t.subscribeConnection,
                            inbound: await t.stats(), outbound: await t.publishStats(),
                            publishSdp: t.call?.publishPc?.localDescription?.sdp, publishAnswer: t.call?.publishPc?.remoteDescription?.sdp,
                            subscribeOffer: t.call?.subscribePc?.remoteDescription?.sdp,
                            subscribeAnswer: t.call?.subscribePc?.localDescription?.sdp};
                })()""")
                out.write("\n--- page state ---\n" + json.dumps(state, indent=1))

    def quit(self):
        with contextlib.suppress(Exception):
            self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browsers(request):
    started = []

    def start(name):
        browser = Browser(name, f"{NAME}-{request.node.callspec.id}")
        started.append(browser)
        return browser

    yield start
    for browser in started:
        browser.quit()


def remote_media(stats, publisher_id):
    """The inbound-rtp audio and video reports of the tracks `publisher_id` sends, by kind."""
    found = {}
    for report in stats:
        if report["userId"] == publisher_id and report["kind"] in ("audio", "video"):
            assert report["kind"] not in found, f"two live {report['kind']} tracks from {publisher_id}: {stats}"
            found[report["kind"]] = report
    return found


def decoding(stats, publisher_id):
    media = remote_media(stats, publisher_id)
    audio, video = media.get("audio"), media.get("video")
    return audio and video and audio["totalSamplesReceived"] > 0 and video["framesDecoded"] > 0


@pytest.mark.parametrize("simulcast", [False, True], ids=["one-encoding", "simulcast"])
def test_two_chromium_instances_see_and_hear_each_other(pages, server, browsers, simulcast):
    users = {name: server.sign_up(name) for name in ("Ada", "Bob")}
    (ada_id, ada_token), (bob_id, bob_token) = users["Ada"], users["Bob"]
    status, group = server.call("POST", "/conversations", {"kind": "group", "title": "Browsers", "memberIds": [bob_id]}, ada_token)
    assert status == 201, group
    conversation = group["id"]

    ada, bob = browsers("Ada"), browsers("Bob")
    peers = {"Ada": (ada, ada_id, bob_id), "Bob": (bob, bob_id, ada_id)}
    try:
        ada.open(pages, server, ada_token, conversation, simulcast)
        ada.wait("publish", lambda: ada.js("window.parleyTest.state") == "in call", 15)
        bob.open(pages, server, bob_token, conversation, simulcast)

        # Both decode the other's audio and video.
        for name, (browser, _, other_id) in peers.items():
            browser.wait("decoded remote audio and video", lambda: decoding(browser.js("window.parleyTest.stats()"), other_id), 20,
                         lambda: f"inbound-rtp {browser.js('window.parleyTest.stats()')}")

        # ... and keep decoding: after a warm-up (the publisher's encoder and bandwidth estimate ramp
        # up in the first seconds), a second read 2 s after the first shows frames and real (not
        # concealed) samples.
        time.sleep(3)
        first = {name: (time.monotonic(), remote_media(browser.js("window.parleyTest.stats()"), other_id))
                 for name, (browser, _, other_id) in peers.items()}
        time.sleep(2)
        for name, (browser, _, other_id) in peers.items():
            started, before = first[name]
            after = remote_media(browser.js("window.parleyTest.stats()"), other_id)
            elapsed = time.monotonic() - started
            video = {key: after["video"][key] - before["video"][key] for key in ("framesDecoded", "packetsReceived")}
            audio = {key: after["audio"][key] - before["audio"][key]
                     for key in ("packetsReceived", "totalSamplesReceived", "concealedSamples", "silentConcealedSamples", "totalAudioEnergy")}
            where = f"{name} receiving; before {before}; after {after}"
            assert after["video"]["codec"] == "video/VP8", where
            # The fake camera runs at 20 fps: at least half of that must be decoded.
            assert video["framesDecoded"] >= 10 * elapsed - 5, f"video frames decoded {video}; {where}"
            assert after["video"]["frameWidth"] > 0 and after["video"]["frameHeight"] > 0, where
            # Opus at 20 ms per packet is 50 packets/s; samples are played out at 48 kHz.
            assert after["audio"]["codec"] == "audio/opus", where
            assert audio["packetsReceived"] >= 40 * elapsed - 10, f"audio packets {audio}; {where}"
            assert audio["totalSamplesReceived"] >= 0.8 * SAMPLE_RATE * (elapsed - 0.5), f"audio samples {audio}; {where}"
            assert audio["concealedSamples"] <= 0.05 * audio["totalSamplesReceived"], f"audio mostly concealed {audio}; {where}"
            # The fake microphone beeps: what was decoded so far is not all silence. (Per 2 s window the
            # source itself can be quiet, so this looks at the whole call.)
            assert after["audio"]["totalAudioEnergy"] > 0, f"decoded audio is all silence; {where}"
        for browser, _, _ in peers.values():
            browser.save_screenshot()

        # Bob leaves: Ada sees him go and his two tracks unpublished.
        mark = ada.js("window.parleyTest.frames.length")
        bob.js("window.parleyTest.leave()")

        def after_leave(type_):
            return [f for f in ada.js(f"window.parleyTest.frames.slice({mark})")
                    if f["type"] == type_ and f["data"].get("userId") == bob_id and f["data"].get("conversationId") == conversation]

        ada.wait("call.participant.left for Bob", lambda: after_leave("call.participant.left"), 5)
        ada.wait("Bob's tracks unpublished",
                 lambda: sorted(f["data"]["track"]["kind"] for f in after_leave("call.track.unpublished")) == ["audio", "video"], 5)
        status, call = server.call("GET", f"/conversations/{conversation}/call", token=ada_token)
        assert status == 200 and call["active"] and [p["userId"] for p in call["participants"]] == [ada_id], call
    except BaseException:
        for browser, _, _ in peers.values():
            with contextlib.suppress(Exception):
                browser.save_screenshot()
            browser.save_diagnostics()
        with contextlib.suppress(Exception), urllib.request.urlopen(f"{server.url}/metrics", timeout=5) as response, \
                open(os.path.join(ARTIFACTS, f"{server.name}-metrics.txt"), "wb") as out:
            out.write(response.read())
        raise
