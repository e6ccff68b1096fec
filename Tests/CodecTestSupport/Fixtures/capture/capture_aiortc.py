"""Captures aiortc SDP for the SDP negotiation tests (not run by the test suite).

Usage (from the repository root):
    .venv-test/bin/python Tests/CodecTestSupport/Fixtures/capture/capture_aiortc.py publish
    .venv-test/bin/python Tests/CodecTestSupport/Fixtures/capture/capture_aiortc.py answer <subscribe-offer.sdp>

`publish` writes aiortc-publish.sdp: a sendonly audio + video offer after ICE gathering.
`answer` writes aiortc-subscribe-answer.sdp: aiortc's answer to a subscribe offer written by
Parley's SdpNegotiator.subscribeOffer.
"""
import asyncio
import os
import sys

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def write(name, sdp):
    with open(os.path.join(FIXTURES, name), "w", newline="") as f:
        f.write(sdp)
    print("wrote", name, f"({len(sdp)} bytes)")


async def publish():
    pc = RTCPeerConnection()
    pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers before returning
    write("aiortc-publish.sdp", pc.localDescription.sdp)
    await pc.close()


async def answer(path):
    with open(path, newline="") as f:
        offer = f.read()
    pc = RTCPeerConnection()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    write("aiortc-subscribe-answer.sdp", pc.localDescription.sdp)
    await pc.close()


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "publish"
    if mode == "publish":
        asyncio.run(publish())
    elif mode == "answer":
        asyncio.run(answer(sys.argv[2]))
    else:
        raise SystemExit(__doc__)
