"""A call participant made of real aiortc peer connections, speaking Parley's /ws call protocol.

It publishes a sine tone of its own frequency and a synthetic video track on its publish
connection, answers every `call.subscribe.offer` on its subscribe connection, and records what
it receives per remote track so tests can check who sent what.
"""
import asyncio
import fractions
import json
import time

import aioice.ice
import numpy
import websockets
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack
from av import AudioFrame, VideoFrame

# aioice leaves loopback out when gathering; the tests run on 127.0.0.1 only.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

SAMPLE_RATE = 48000


class ToneTrack(AudioStreamTrack):
    """A sine tone at `frequency` Hz, 20 ms mono s16 frames at 48 kHz."""

    def __init__(self, frequency):
        super().__init__()
        self.frequency, self.sent = frequency, 0

    async def recv(self):
        samples = SAMPLE_RATE // 50
        if self.sent:
            wait = self._start + self.sent / SAMPLE_RATE - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        else:
            self._start = time.time()
        t = (numpy.arange(samples) + self.sent) / SAMPLE_RATE
        pcm = (numpy.sin(2 * numpy.pi * self.frequency * t) * 12000).astype(numpy.int16)
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, self.sent, fractions.Fraction(1, SAMPLE_RATE)
        self.sent += samples
        return frame


class PatternTrack(VideoStreamTrack):
    """A 320x240 picture: its top half a flat grey of `shade` (0-255), which names the sender
    (`Received.luma` reads it back), its bottom half a bar that moves each frame, so the
    encoder sends real frames."""

    def __init__(self, shade):
        super().__init__()
        self.shade, self.count = shade, 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        picture = numpy.zeros((240, 320, 3), numpy.uint8)
        picture[:, :, 0] = self.shade
        picture[:120, :, :] = self.shade
        picture[120:, (self.count * 4) % 320:, 1] = 200
        self.count += 1
        frame = VideoFrame.from_ndarray(picture, format="bgr24")
        frame.pts, frame.time_base = pts, time_base
        return frame


def offered_tracks(sdp):
    """mid -> trackId of the live m-sections of a subscribe offer (a=msid:<userId> <trackId>; not port 0 or inactive)."""
    tracks, mid, live, track = {}, None, False, None
    for line in sdp.splitlines() + ["m=end 0"]:
        if line.startswith("m="):
            if mid is not None and live and track:
                tracks[mid] = track
            mid, live, track = None, line.split()[1] != "0", None
        elif line.strip() == "a=inactive":
            live = False  # a track that went away keeps its section, inactive
        elif line.startswith("a=mid:"):
            mid = line[6:].strip()
        elif line.startswith("a=msid:"):
            parts = line[7:].split()
            track = parts[1] if len(parts) == 2 else None
    return tracks


def expected_luma(shade):
    """The Y of a grey `shade` in the limited range encoders use (BT.601: 16 + 219 * shade / 255)."""
    return 16 + 219 * shade / 255


def top_luma(frame):
    """The mean Y (luma plane) of the middle of a decoded picture's top half, away from the
    edge where the codec blurs it into the moving half."""
    plane = frame.planes[0]
    rows = numpy.frombuffer(plane, numpy.uint8).reshape(-1, plane.line_size)[:plane.height, :plane.width]
    return float(rows[plane.height // 16:plane.height * 3 // 8].mean())


def dominant_frequency(samples):
    spectrum = numpy.abs(numpy.fft.rfft(samples * numpy.hanning(len(samples))))
    return numpy.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[int(numpy.argmax(spectrum[1:])) + 1]


class Received:
    """What arrived on one remote track."""

    def __init__(self, track):
        self.track, self.frames, self.samples, self.ended = track, 0, [], False
        self.lumas = []           # per decoded video frame, `top_luma`
        self.last_frame_at = None  # event-loop time of the last frame

    async def consume(self):
        loop = asyncio.get_running_loop()
        try:
            while True:
                frame = await self.track.recv()
                self.frames += 1
                self.last_frame_at = loop.time()
                if self.track.kind == "audio":
                    pcm = frame.to_ndarray().reshape(-1)
                    channels = len(frame.layout.channels)
                    self.samples.append(pcm[::channels].astype(numpy.float64))
                else:
                    self.lumas = self.lumas[-99:] + [top_luma(frame)]
        except MediaStreamError:
            self.ended = True

    def luma(self, frames=10):
        """The median `top_luma` of the last `frames` video frames (the first after a keyframe
        may still be coarse), or None before that many arrived."""
        return float(numpy.median(self.lumas[-frames:])) if len(self.lumas) >= frames else None

    def silent_for(self, now):
        """Seconds since the last frame (infinite if the track ended)."""
        if self.ended:
            return float("inf")
        return now - self.last_frame_at if self.last_frame_at is not None else float("inf")

    def frequency(self, seconds=1.0):
        needed = int(SAMPLE_RATE * seconds)
        pcm = numpy.concatenate(self.samples)[-needed:] if self.samples else numpy.zeros(0)
        return dominant_frequency(pcm) if len(pcm) >= needed else None


def two_peers_in_a_group(server, title):
    """Ada and Bob signed up, a group of the two that Ada made, and a CallPeer for each (not yet
    connected): the group, Ada, Bob."""
    (ada_id, ada_token), (bob_id, bob_token) = server.sign_up("Ada"), server.sign_up("Bob")
    status, group = server.call("POST", "/conversations", {"kind": "group", "title": title, "memberIds": [bob_id]}, ada_token)
    assert status == 201, group
    return group, CallPeer("Ada", server.ws_url, ada_token, ada_id), CallPeer("Bob", server.ws_url, bob_token, bob_id)


class CallPeer:
    def __init__(self, name, ws_url, token, user_id):
        self.name, self.ws_url, self.token, self.user_id = name, ws_url, token, user_id
        self.frames, self.errors, self.received, self.offers = [], [], {}, 0
        self.publish_pc = self.subscribe_pc = None
        self.track_owner = {}   # trackId -> (userId, kind), from call.participants / call.track.published
        self.mid_track = {}     # active mid of the subscribe connection -> trackId, from the offer's a=msid
        self.ice_servers, self.relay_only = [], False
        self.spoil_answers = 0  # this many next subscribe answers are sent as unusable SDP
        self._waiters = []

    async def connect(self):
        self.socket = await websockets.connect(self.ws_url, max_size=2 ** 20)
        await self.send("auth", {"token": self.token}, id="auth")
        self.reader = asyncio.ensure_future(self._read())
        await self.wait_for("auth.success")

    async def send(self, type_, data, id=None):
        frame = {"type": type_, "data": data}
        if id is not None:
            frame["id"] = id
        await self.socket.send(json.dumps(frame))

    async def _read(self):
        try:
            async for text in self.socket:
                frame = json.loads(text)
                self.frames.append(frame)
                kind, data = frame["type"], frame.get("data", {})
                if kind == "error":
                    self.errors.append(frame)
                elif kind == "call.participants":
                    for participant in data["participants"]:
                        for track in participant["tracks"]:
                            self.track_owner[track["trackId"]] = (participant["userId"], track["kind"])
                elif kind == "call.track.published":
                    self.track_owner[data["track"]["trackId"]] = (data["userId"], data["track"]["kind"])
                elif kind == "call.subscribe.offer":
                    await self._answer(data)
                for waiter in list(self._waiters):
                    if not waiter[1].done() and waiter[0](frame):
                        waiter[1].set_result(frame)
        except websockets.ConnectionClosed:
            pass

    async def wait_for(self, type_, timeout=10, where=lambda data: True, since=0):
        for frame in self.frames[since:]:
            if frame["type"] == type_ and where(frame.get("data", {})):
                return frame
        future = asyncio.get_running_loop().create_future()
        waiter = (lambda f: f["type"] == type_ and where(f.get("data", {})), future)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self.name}: no {type_} within {timeout}s; errors {self.errors}; "
                                 f"got {[f['type'] for f in self.frames]}")
        finally:
            self._waiters.remove(waiter)

    def _configuration(self):
        servers = [RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
                   for s in self.ice_servers]
        configuration = RTCConfiguration(iceServers=servers, bundlePolicy="max-bundle")
        if self.relay_only:
            from aiortc import RTCIceTransportPolicy
            configuration = RTCConfiguration(iceServers=servers, bundlePolicy="max-bundle",
                                             iceTransportPolicy=RTCIceTransportPolicy.RELAY)
        return configuration

    async def join(self, conversation_id):
        self.conversation_id = conversation_id
        await self.send("call.join", {"conversationId": conversation_id}, id="join")
        config = await self.wait_for("call.config")
        assert config.get("id") == "join", config
        self.ice_servers = config["data"]["iceServers"]
        await self.wait_for("call.participants")
        return config["data"]

    async def publish(self, frequency, shade):
        self.publish_pc = RTCPeerConnection(self._configuration())
        self.publish_pc.addTransceiver(ToneTrack(frequency), direction="sendonly")
        self.publish_pc.addTransceiver(PatternTrack(shade), direction="sendonly")
        await self.publish_pc.setLocalDescription(await self.publish_pc.createOffer())
        await self.send("call.publish", {"conversationId": self.conversation_id, "sdp": self.publish_pc.localDescription.sdp,
                                         "tracks": [{"mid": "0", "source": "microphone"}, {"mid": "1", "source": "camera"}]},
                        id="publish")
        answer = await self.wait_for("call.publish.answer")
        assert answer.get("id") == "publish"
        await self.publish_pc.setRemoteDescription(RTCSessionDescription(answer["data"]["sdp"], "answer"))

    async def _answer(self, data):
        if self.subscribe_pc is None:
            self.subscribe_pc = RTCPeerConnection(self._configuration())

            @self.subscribe_pc.on("track")
            def on_track(track):
                received = Received(track)
                self.received[track.id] = received
                asyncio.ensure_future(received.consume())

        self.mid_track = offered_tracks(data["sdp"])
        await self.subscribe_pc.setRemoteDescription(RTCSessionDescription(data["sdp"], "offer"))
        await self.subscribe_pc.setLocalDescription(await self.subscribe_pc.createAnswer())
        self.offers += 1
        sdp = self.subscribe_pc.localDescription.sdp
        if self.spoil_answers:
            # Applied locally like any answer, but what reaches Parley it cannot use.
            self.spoil_answers -= 1
            sdp = "v=0\r\nnot an answer\r\n"
        await self.send("call.subscribe.answer", {"conversationId": data["conversationId"], "sdp": sdp,
                                                  "revision": data["revision"]}, id=f"answer-{data['revision']}")

    def received_from(self, user_id, kind):
        """What arrived on the subscribe connection's live track published by `user_id`."""
        if self.subscribe_pc is None:
            return None
        for transceiver in self.subscribe_pc.getTransceivers():
            track_id = self.mid_track.get(transceiver.mid)
            if track_id is not None and self.track_owner.get(track_id) == (user_id, kind):
                return self.received.get(transceiver.receiver.track.id)
        return None

    async def close(self):
        for pc in (self.publish_pc, self.subscribe_pc):
            if pc is not None:
                await pc.close()
        await self.socket.close()
        self.reader.cancel()
