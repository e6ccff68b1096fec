#!/usr/bin/env python3
"""A DTLS-SRTP peer made of aiortc's RTCDtlsTransport, for the Swift interop tests.

It talks plain UDP on 127.0.0.1 to the Swift test, which runs Parley's DtlsSession as the DTLS
server. aiortc takes the client role (a fake ICE transport in the "controlled" role), checks the
Swift certificate against the fingerprint given on the command line, and after the handshake:
  1. protects an RTP packet and an RTCP packet with pylibsrtp and sends them to Swift;
  2. waits for an RTP and an RTCP packet from Swift and unprotects them with pylibsrtp.
Each step is reported as one JSON line on stdout; the exit status is 0 only if all went well.
With --expect-failure the handshake must fail (Swift refuses our certificate); exit 0 then.
Missing Python packages exit with status 3 (the Swift test then fails, it does not skip).
"""
import argparse
import asyncio
import json
import sys

try:
    from aiortc.rtcdtlstransport import (
        RTCCertificate,
        RTCDtlsFingerprint,
        RTCDtlsParameters,
        RTCDtlsTransport,
    )
    import pylibsrtp  # noqa: F401  (aiortc's SRTP, used through the transport's sessions)
except ImportError as error:  # the Swift test must fail, not skip
    print(json.dumps({"error": f"missing python dependency: {error}"}), flush=True)
    sys.exit(3)

# The packets both sides agree on (the Swift test builds the same bytes).
PY_SSRC, SWIFT_SSRC = 0x11223344, 0x55667788


def rtp_packet(ssrc: int, seq: int, payload_length: int, multiplier: int, offset: int) -> bytes:
    header = bytes([0x80, 111, seq >> 8, seq & 0xFF, 0, 0, 0x03, 0xC0]) + ssrc.to_bytes(4, "big")
    return header + bytes(((i * multiplier + offset) & 0xFF) for i in range(payload_length))


def rtcp_sender_report(ssrc: int) -> bytes:
    # V=2, RC=0, PT=200 (SR), length 6 words: SSRC, NTP (8), RTP ts, packet count, octet count
    return bytes([0x80, 200, 0, 6]) + ssrc.to_bytes(4, "big") + bytes(range(1, 21))


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


class UdpPeer(asyncio.DatagramProtocol):
    """Splits what arrives into DTLS (for aiortc) and SRTP/SRTCP (for this script), RFC 7983."""

    def __init__(self) -> None:
        self.dtls: asyncio.Queue = asyncio.Queue()
        self.srtp: asyncio.Queue = asyncio.Queue()
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        if 20 <= data[0] <= 63:
            self.dtls.put_nowait(data)
        elif 128 <= data[0] <= 191:
            self.srtp.put_nowait(data)


class FakeIceTransport:
    """The few members RTCDtlsTransport uses of an RTCIceTransport."""

    role = "controlled"  # aiortc then takes the DTLS client role

    def __init__(self, peer: UdpPeer, remote) -> None:
        self._peer = peer
        self._remote = remote

    async def _recv(self) -> bytes:
        return await self._peer.dtls.get()

    async def _send(self, data: bytes) -> None:
        self._peer.transport.sendto(data, self._remote)


async def run(args) -> int:
    loop = asyncio.get_running_loop()
    remote = ("127.0.0.1", args.swift_port)
    _, peer = await loop.create_datagram_endpoint(UdpPeer, local_addr=("127.0.0.1", 0))
    certificate = RTCCertificate.generateCertificate()
    port = peer.transport.get_extra_info("sockname")[1]
    emit(port=port, fingerprints=[f"{f.algorithm} {f.value}" for f in certificate.getFingerprints()])

    algorithm, value = args.swift_fingerprint.split(" ", 1)
    dtls = RTCDtlsTransport(FakeIceTransport(peer, remote), [certificate])
    await asyncio.wait_for(
        dtls.start(RTCDtlsParameters(fingerprints=[RTCDtlsFingerprint(algorithm=algorithm, value=value)])),
        timeout=args.timeout,
    )
    emit(state=dtls.state)
    if dtls.state != "connected":
        return 0 if args.expect_failure else 1
    if args.expect_failure:
        emit(error="handshake succeeded although Swift should refuse our certificate")
        return 1
    emit(profile=dtls._ssl.get_selected_srtp_profile().decode())

    # Python -> Swift
    sent_rtp = rtp_packet(PY_SSRC, 1, 1000, 7, 3)
    sent_rtcp = rtcp_sender_report(PY_SSRC)
    await dtls.transport._send(dtls._tx_srtp.protect(sent_rtp))
    await dtls.transport._send(dtls._tx_srtp.protect_rtcp(sent_rtcp))
    emit(sent="rtp+rtcp")

    # Swift -> Python
    expected_rtp = rtp_packet(SWIFT_SSRC, 7, 1100, 13, 5)
    expected_rtcp = rtcp_sender_report(SWIFT_SSRC)
    got_rtp = got_rtcp = False
    while not (got_rtp and got_rtcp):
        data = await asyncio.wait_for(peer.srtp.get(), timeout=args.timeout)
        if 192 <= data[1] <= 223:  # RTCP packet types (RFC 5761 §4)
            plain = dtls._rx_srtp.unprotect_rtcp(data)
            if plain != expected_rtcp:
                emit(error="SRTCP from Swift decrypted to unexpected bytes", got=plain.hex())
                return 1
            got_rtcp = True
        else:
            plain = dtls._rx_srtp.unprotect(data)
            if plain != expected_rtp:
                emit(error="SRTP from Swift decrypted to unexpected bytes", got=plain.hex())
                return 1
            got_rtp = True
    emit(received="rtp+rtcp")
    await dtls.stop()
    emit(done=True)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--swift-port", type=int, required=True)
    parser.add_argument("--swift-fingerprint", required=True, help="e.g. 'sha-256 AB:CD:...'")
    parser.add_argument("--expect-failure", action="store_true")
    parser.add_argument("--timeout", type=float, default=15.0)
    args = parser.parse_args()
    try:
        status = asyncio.run(run(args))
    except Exception as error:  # report, never hang
        emit(error=f"{type(error).__name__}: {error}")
        status = 1
    sys.exit(status)


if __name__ == "__main__":
    main()
