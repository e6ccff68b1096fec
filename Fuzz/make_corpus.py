#!/usr/bin/env python3
"""Writes the seed corpora in Fuzz/corpus/<target>/ from real peers' code and the RFCs' vectors.

    .venv-test/bin/python Fuzz/make_corpus.py

Every seed is made here, by the libraries of the peers Parley serves (aioice and aiortc for STUN,
RTP and RTCP, their encoders for VP8, H.264 and Opus payloads; pyOpenSSL, i.e. OpenSSL, for a DTLS
ClientHello offering use_srtp), from RFC 5769's STUN vectors, from the SDP captured from
Chromium, Firefox and aiortc in Tests/CodecTestSupport/Fixtures, and from the /ws frames the protocol
names. The files are committed; run this again only to change them.
"""
import fractions
import hashlib
import json
import os
import struct
import sys

import av
from aioice import stun
import aiortc.rtp as rtcp
from aiortc.codecs import get_encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket
from OpenSSL import SSL, crypto

ROOT = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(ROOT, "corpus")
FIXTURES = os.path.join(ROOT, "..", "Tests", "SFUTests", "Fixtures")

# The fuzz-stun harness's transport (Fuzz/Targets/stun).
UFRAG, PASSWORD = "fuzz", "fuzzfuzzfuzzfuzzfuzzfuzz"


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def stun_seeds():
    # RFC 5769 §2.1-2.3 (request, IPv4 and IPv6 responses).
    rfc = {
        "rfc5769-request": "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74"
                           "002400046e0001ff80290008932ff9b151263b36000600096576746a3a68367659202020"
                           "000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf",
        "rfc5769-response-ipv4": "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220"
                                 "002000080001a147e112a643000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
                                 "80280004c07d4c96",
        "rfc5769-response-ipv6": "010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220"
                                 "002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d900080014a382954e4be67bf1"
                                 "1784c97c8292c275bfe3ed4180280004c8fb0b4c",
    }
    for name, text in rfc.items():
        write("stun", name, bytes.fromhex(text))
    # aioice's Binding requests, signed with the harness's password, as a controlling browser sends them.
    for i, extra in enumerate([{}, {"USE-CANDIDATE": None}, {"ICE-CONTROLLED": 5}]):
        message = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST,
                               transaction_id=bytes([i + 1]) * 12)
        message.attributes["USERNAME"] = f"{UFRAG}:peer"
        message.attributes["PRIORITY"] = 1853817087
        if "ICE-CONTROLLED" in extra:
            message.attributes["ICE-CONTROLLED"] = extra["ICE-CONTROLLED"]
        else:
            message.attributes["ICE-CONTROLLING"] = 0x1122334455667788
        if "USE-CANDIDATE" in extra:
            message.attributes["USE-CANDIDATE"] = None
        message.add_message_integrity(PASSWORD.encode())
        message.add_fingerprint()
        data = bytes(message)
        write("stun", f"aioice-binding-{i}", data)
        # ICE-TCP: the first byte picks the read size, then RFC 4571 framing; two frames at once.
        framed = struct.pack("!H", len(data)) + data
        write("icetcp", f"aioice-binding-{i}", bytes([i * 7]) + framed + framed)
    indication = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.INDICATION,
                              transaction_id=b"\x09" * 12)
    indication.add_fingerprint()
    write("stun", "aioice-indication", bytes(indication))


def encoded_payloads(mime, clock_rate, frames):
    codec = RTCRtpCodecParameters(mimeType=mime, clockRate=clock_rate, payloadType=96,
                                  channels=2 if mime == "audio/opus" else None)
    encoder = get_encoder(codec)
    out = []
    for index, frame in enumerate(frames):
        payloads, _ = encoder.encode(frame, force_keyframe=(index == 0))
        out.extend(payloads)
    return out


def video_frames(count):
    frames = []
    for index in range(count):
        frame = av.VideoFrame(width=320, height=240, format="yuv420p")
        for plane in frame.planes:
            plane.update(bytes([(index * 40 + 16) % 256]) * plane.buffer_size)
        frame.pts = index * 3000
        frame.time_base = fractions.Fraction(1, 90000)
        frames.append(frame)
    return frames


def audio_frames(count):
    frames = []
    for index in range(count):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = 48000
        frame.pts = index * 960
        frame.time_base = fractions.Fraction(1, 48000)
        frames.append(frame)
    return frames


def rtp(payload, sequence, payload_type=96, marker=0, extensions=None, csrc=None, padding=0):
    packet = RtpPacket(payload_type=payload_type, sequence_number=sequence, timestamp=sequence * 3000,
                       ssrc=0x11223344, marker=marker, payload=payload)
    if csrc:
        packet.csrc = csrc
    if extensions:
        packet.extensions.abs_send_time = 0x123456
        packet.extensions.audio_level = (True, 30)
        packet.extensions.transport_sequence_number = sequence
        packet.extensions.mid = "0"
    data = packet.serialize(extensions_map=EXTENSIONS)
    if padding:
        data = bytes([data[0] | 0x20]) + data[1:] + bytes(padding - 1) + bytes([padding])
    return data


class _ExtensionsMap:
    """aiortc's HeaderExtensionsMap configured as Chromium negotiates the one-byte ids."""

    def __init__(self):
        from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
        from aiortc.rtp import HeaderExtensionsMap
        self.map = HeaderExtensionsMap()
        self.map.configure(RTCRtpParameters(headerExtensions=[
            RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
            RTCRtpHeaderExtensionParameters(id=2, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"),
            RTCRtpHeaderExtensionParameters(
                id=3, uri="http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"),
            RTCRtpHeaderExtensionParameters(id=4, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
        ]))


EXTENSIONS = None


def rtp_seeds():
    global EXTENSIONS
    EXTENSIONS = _ExtensionsMap().map
    sequence = 1000
    for mime, frames in (("video/VP8", video_frames(3)), ("video/H264", video_frames(3)), ("audio/opus", audio_frames(2))):
        payloads = encoded_payloads(mime, 48000 if mime == "audio/opus" else 90000, frames)
        name = mime.split("/")[1].lower()
        for index, payload in enumerate(payloads[:6]):
            sequence += 1
            write("rtp", f"aiortc-{name}-{index}", rtp(payload[:1100], sequence, marker=index == len(payloads) - 1,
                                                      extensions=index % 2 == 0, csrc=[7] if index == 1 else None,
                                                      padding=4 if index == 2 else 0))
        # RTX (RFC 4588 §4): the original sequence number, then the original payload.
        write("rtp", f"aiortc-{name}-rtx", rtp(struct.pack("!H", sequence) + payloads[0][:200], sequence + 1, payload_type=97))
    # VP9 (RFC 9628 §4.2): aiortc has no VP9 encoder; a flexible-mode keyframe descriptor by hand
    # (I P L F B E V Z = 1 0 1 0 1 0 1 0, 15-bit picture id, layer indices, scalability structure).
    vp9 = bytes([0b10101010, 0x80 | 0x12, 0x34, 0x00, 0x00, 0b00011000, 0x01, 0x40, 0x00, 0xF0, 0x04, 0x82, 0x49, 0x83, 0x42, 0x00])
    write("rtp", "handmade-vp9-keyframe", rtp(vp9 + bytes(40), 4000, payload_type=98))
    # A two-byte header extension block (RFC 8285 §4.3).
    two_byte = bytearray(rtp(b"\x90\x80\x01" + bytes(20), 4001))
    two_byte[0] |= 0x10
    block = bytes([5, 3, 1, 2, 3, 0])
    two_byte[12:12] = struct.pack("!HH", 0x1000, (len(block) + 3) // 4) + block + bytes((4 - len(block) % 4) % 4)
    write("rtp", "handmade-two-byte-extension", bytes(two_byte))


def rtcp_seeds():
    block = rtcp.RtcpReceiverInfo(ssrc=0x11223344, fraction_lost=12, packets_lost=3, highest_sequence=70000,
                                  jitter=40, lsr=0x12345678, dlsr=655)
    sr = rtcp.RtcpSrPacket(ssrc=1, sender_info=rtcp.RtcpSenderInfo(ntp_timestamp=0x0102030405060708, rtp_timestamp=9000,
                                                                    packet_count=10, octet_count=1000), reports=[block])
    rr = rtcp.RtcpRrPacket(ssrc=2, reports=[block, block])
    sdes = rtcp.RtcpSdesPacket(chunks=[rtcp.RtcpSourceInfo(ssrc=1, items=[(1, b"{aiortc-cname}")])])
    bye = rtcp.RtcpByePacket(sources=[1, 2])
    nack = rtcp.RtcpRtpfbPacket(fmt=rtcp.RTCP_RTPFB_NACK, ssrc=2, media_ssrc=0x11223344, lost=[1000, 1001, 1005, 1016, 1040])
    pli = rtcp.RtcpPsfbPacket(fmt=rtcp.RTCP_PSFB_PLI, ssrc=2, media_ssrc=0x11223344)
    remb = rtcp.RtcpPsfbPacket(fmt=rtcp.RTCP_PSFB_APP, ssrc=2, media_ssrc=0,
                               fci=rtcp.pack_remb_fci(1_500_000, [0x11223344, 0x55667788]))
    fir = struct.pack("!BBHII", 0x80 | 4, 206, 4, 2, 0) + struct.pack("!IBBH", 0x11223344, 7, 0, 0)
    # transport-cc (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1): base 100, 6 packets,
    # a run of 3 received-small, then a two-bit vector with a large delta and a loss.
    chunks = struct.pack("!HH", 0x2003, 0b1100_0110_0100_0000 | 0x0000)
    deltas = bytes([4, 4, 4]) + struct.pack("!h", -20) + bytes([8])
    fci = struct.pack("!HHI", 100, 6, (1234 << 8) | 1) + chunks + deltas
    fci += bytes((4 - len(fci) % 4) % 4)
    tcc = struct.pack("!BBHII", 0x80 | 15, 205, (len(fci) + 8) // 4, 2, 0x11223344) + fci
    singles = {"sr": bytes(sr), "rr": bytes(rr), "sdes": bytes(sdes), "bye": bytes(bye), "nack": bytes(nack),
               "pli": bytes(pli), "remb": bytes(remb), "fir": fir, "transport-cc": tcc}
    for name, data in singles.items():
        write("rtcp", f"single-{name}", data)
    # Compound packets as browsers send them: a report first, then SDES, then feedback.
    write("rtcp", "compound-rr-sdes-nack-pli", bytes(rr) + bytes(sdes) + bytes(nack) + bytes(pli))
    write("rtcp", "compound-sr-sdes-remb-tcc", bytes(sr) + bytes(sdes) + bytes(remb) + tcc)
    write("rtcp", "compound-rr-bye", bytes(rr) + bytes(bye))


def sdp_seeds():
    for name in sorted(os.listdir(FIXTURES)):
        if name.endswith(".sdp"):
            with open(os.path.join(FIXTURES, name), "rb") as f:
                write("sdp", name[:-4], f.read())


def dtls_seeds():
    key = crypto.PKey()
    key.generate_key(crypto.TYPE_RSA, 2048)
    cert = crypto.X509()
    cert.get_subject().CN = "peer"
    cert.set_serial_number(1)
    cert.gmtime_adj_notBefore(0)
    cert.gmtime_adj_notAfter(86400)
    cert.set_issuer(cert.get_subject())
    cert.set_pubkey(key)
    cert.sign(key, "sha256")
    for index, profiles in enumerate([b"SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", b"SRTP_AES128_CM_SHA1_80", None]):
        context = SSL.Context(SSL.DTLS_METHOD)
        context.use_certificate(cert)
        context.use_privatekey(key)
        if profiles:
            context.set_tlsext_use_srtp(profiles)
        connection = SSL.Connection(context, None)
        connection.set_connect_state()
        try:
            connection.do_handshake()
        except SSL.WantReadError:
            pass
        hello = connection.bio_read(65535)
        # The harness reads 2-byte-length-prefixed datagrams (Fuzz/Targets/dtls).
        write("dtls", f"openssl-clienthello-{index}", struct.pack("!H", len(hello)) + hello)
        if index == 0:
            write("dtls", "openssl-clienthello-twice", (struct.pack("!H", len(hello)) + hello) * 2)


def clientframe_seeds():
    conversation = "0192f0a0-0000-7000-8000-000000000001"
    frames = [
        {"type": "auth", "data": {"token": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"}},
        {"type": "ping", "id": "1"},
        {"type": "room.join", "id": "2", "data": {"conversationId": conversation}},
        {"type": "message.send", "id": "3", "data": {"conversationId": conversation, "content": "hello", "clientMsgId": "c-1"}},
        {"type": "message.edit", "id": "4", "data": {"conversationId": conversation, "messageId": "m", "content": "x"}},
        {"type": "message.delete", "data": {"conversationId": conversation, "messageId": "m"}},
        {"type": "typing.start", "data": {"conversationId": conversation}},
        {"type": "read", "data": {"conversationId": conversation, "messageId": "m"}},
        {"type": "call.join", "id": "5", "data": {"conversationId": conversation}},
        {"type": "call.publish", "id": "6", "data": {"conversationId": conversation, "sdp": "v=0\r\n",
                                                     "tracks": [{"mid": "0", "source": "microphone"}]}},
        {"type": "call.subscribe.answer", "data": {"conversationId": conversation, "sdp": "v=0\r\n", "revision": 3}},
        {"type": "call.candidate", "data": {"conversationId": conversation, "pc": "publish"}},
        {"type": "call.mute", "data": {"conversationId": conversation, "trackId": "t", "muted": True}},
        {"type": "call.quality", "data": {"conversationId": conversation, "trackId": "t", "quality": "low"}},
        {"type": "call.leave", "data": {"conversationId": conversation}},
    ]
    for frame in frames:
        text = json.dumps(frame).encode()
        name = frame["type"].replace(".", "-")
        write("clientframe", f"text-{name}", text)
        # The same as a masked client frame on the wire (RFC 6455 §5.2, §5.3), FIN + text.
        mask = hashlib.sha256(text).digest()[:4]
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(text))
        length = len(text)
        header = bytes([0x81]) + (bytes([0x80 | length]) if length < 126 else bytes([0x80 | 126]) + struct.pack("!H", length))
        write("clientframe", f"ws-{name}", header + mask + masked)


def main():
    stun_seeds()
    rtp_seeds()
    rtcp_seeds()
    sdp_seeds()
    dtls_seeds()
    clientframe_seeds()
    for target in sorted(os.listdir(CORPUS)):
        print(target, len(os.listdir(os.path.join(CORPUS, target))), file=sys.stderr)


if __name__ == "__main__":
    main()
