"""Captures Chromium SDP for the SDP negotiation tests (not run by the test suite).

Usage (from the repository root):
    .venv-test/bin/python Tests/CodecTestSupport/Fixtures/capture/capture_chromium.py publish
    .venv-test/bin/python Tests/CodecTestSupport/Fixtures/capture/capture_chromium.py answer <subscribe-offer.sdp>

`publish` writes chromium-publish.sdp and chromium-publish-simulcast.sdp (sendonly audio + video
offers, max-bundle, the second with rids h/m/l). `answer` feeds a subscribe offer written by
Parley's SdpNegotiator.subscribeOffer to Chromium and writes its answer to
chromium-subscribe-answer.sdp (proof that Chromium accepts the offer).
Uses Debian's /usr/bin/chromium and /usr/bin/chromedriver.
"""
import http.server
import os
import sys
import tempfile
import threading

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

PUBLISH_JS = """
const simulcast = arguments[0];
const done = arguments[arguments.length - 1];
(async () => {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 1280, height: 720}});
  const pc = new RTCPeerConnection({bundlePolicy: "max-bundle"});
  pc.addTransceiver(stream.getAudioTracks()[0], {direction: "sendonly", streams: [stream]});
  const init = {direction: "sendonly", streams: [stream]};
  if (simulcast) {
    init.sendEncodings = [{rid: "h"}, {rid: "m", scaleResolutionDownBy: 2}, {rid: "l", scaleResolutionDownBy: 4}];
  }
  pc.addTransceiver(stream.getVideoTracks()[0], init);
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  // Wait for ICE gathering so the offer carries candidates like a real one sent after trickle ends.
  await new Promise(r => {
    if (pc.iceGatheringState === "complete") return r();
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === "complete") r(); };
    setTimeout(r, 3000);
  });
  done(pc.localDescription.sdp);
})().catch(e => done("ERROR " + e));
"""

ANSWER_JS = """
const offer = arguments[0];
const done = arguments[arguments.length - 1];
(async () => {
  const pc = new RTCPeerConnection({bundlePolicy: "max-bundle"});
  await pc.setRemoteDescription({type: "offer", sdp: offer});
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  done(pc.localDescription.sdp);
})().catch(e => done("ERROR " + e));
"""


def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--use-fake-device-for-media-stream",
                 "--use-fake-ui-for-media-stream", "--disable-dev-shm-usage",
                 "--user-data-dir=" + tempfile.mkdtemp(prefix="parley-chromium-")]:
        options.add_argument(flag)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    d.set_script_timeout(30)
    # getUserMedia needs a secure context; http://127.0.0.1 is one, about:blank and data: are not.
    d.get(f"http://127.0.0.1:{serve_blank_page()}/")
    return d


def serve_blank_page():
    class Blank(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>parley sdp capture</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Blank)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def write(name, sdp):
    if sdp.startswith("ERROR"):
        raise SystemExit(f"{name}: {sdp}")
    with open(os.path.join(FIXTURES, name), "w", newline="") as f:
        f.write(sdp)
    print("wrote", name, f"({len(sdp)} bytes)")


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "publish"
    d = driver()
    try:
        if mode == "publish":
            write("chromium-publish.sdp", d.execute_async_script(PUBLISH_JS, False))
            write("chromium-publish-simulcast.sdp", d.execute_async_script(PUBLISH_JS, True))
        elif mode == "answer":
            with open(sys.argv[2], newline="") as f:
                offer = f.read()
            write("chromium-subscribe-answer.sdp", d.execute_async_script(ANSWER_JS, offer))
        else:
            raise SystemExit(__doc__)
    finally:
        d.quit()


if __name__ == "__main__":
    main()
