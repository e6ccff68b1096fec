"""Captures Firefox (Debian firefox-esr) publish offers for the SDP tests (not run by the test suite).

Usage (from the repository root, after `apt-get install -y firefox-esr`):
    .venv-test/bin/python Tests/CodecTestSupport/Fixtures/capture/capture_firefox.py

geckodriver is not packaged in Debian, so Firefox is driven without WebDriver: a tiny HTTP server
on 127.0.0.1 serves a page that builds the offers and POSTs them back. Firefox runs headless with
a fresh profile whose user.js enables fake media devices and skips the permission prompt.
Writes firefox-publish.sdp and firefox-publish-simulcast.sdp.
"""
import http.server
import os
import shutil
import subprocess
import tempfile
import threading

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

PAGE = b"""<!doctype html><title>parley sdp capture</title><script>
async function offer(simulcast) {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 1280, height: 720}});
  const pc = new RTCPeerConnection({bundlePolicy: "max-bundle"});
  pc.addTransceiver(stream.getAudioTracks()[0], {direction: "sendonly", streams: [stream]});
  const init = {direction: "sendonly", streams: [stream]};
  if (simulcast) {
    init.sendEncodings = [{rid: "h"}, {rid: "m", scaleResolutionDownBy: 2}, {rid: "l", scaleResolutionDownBy: 4}];
  }
  pc.addTransceiver(stream.getVideoTracks()[0], init);
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise(r => {
    if (pc.iceGatheringState === "complete") return r();
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === "complete") r(); };
    setTimeout(r, 3000);
  });
  const sdp = pc.localDescription.sdp;
  pc.close();
  stream.getTracks().forEach(t => t.stop());
  return sdp;
}
async function post(name, body) { await fetch("/" + name, {method: "POST", body}); }
(async () => {
  try {
    await post("firefox-publish.sdp", await offer(false));
    await post("firefox-publish-simulcast.sdp", await offer(true));
    await post("done", "");
  } catch (e) { await post("error", String(e)); }
})();
</script>"""

USER_JS = """user_pref("media.navigator.streams.fake", true);
user_pref("media.navigator.permission.disabled", true);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
"""


def main():
    finished = threading.Event()
    result = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            name = self.path.lstrip("/")
            self.send_response(204)
            self.end_headers()
            if name == "done":
                finished.set()
            elif name == "error":
                result["error"] = body
                finished.set()
            elif name.startswith("firefox-") and name.endswith(".sdp"):
                with open(os.path.join(FIXTURES, name), "w", newline="") as f:
                    f.write(body)
                print("wrote", name, f"({len(body)} bytes)")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp(prefix="parley-firefox-")
    with open(os.path.join(profile, "user.js"), "w") as f:
        f.write(USER_JS)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    firefox = subprocess.Popen(["firefox-esr", "--headless", "--profile", profile, "--no-remote", url],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not finished.wait(60):
            raise SystemExit("Firefox did not post the offers within 60 s")
        if "error" in result:
            raise SystemExit("page error: " + result["error"])
    finally:
        firefox.terminate()
        firefox.wait(10)
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
