"""A call still connects when the TURN relay Parley hands out is down.

Parley is configured for TURN (TURN_SECRET, ICE_TURN_URLS) but nothing listens at the turn: URL,
as when coturn has stopped or its port is blocked. Two aiortc peers take call.config's
iceServers as they are, dead relay included, so their ICE agents try to allocate on it and
get nothing; they must still connect to Parley on host candidates and hear and see each other.
The test first checks that the dead relay is really among the iceServers handed out (and in
the peers' ICE agents), so it proves the "coturn down" case and not a call without TURN.
"""
import asyncio
import socket
import time

import pytest

from call_peer import expected_luma, two_peers_in_a_group
from parley_server import Server

PARLEY_PORT, MEDIA_PORT, DEAD_TURN_PORT = 18641, 18642, 18649
DEAD_TURN_URL = f"turn:127.0.0.1:{DEAD_TURN_PORT}?transport=udp"
SECRET = "faults-turn-secret-" + "x" * 24
FREQUENCIES, SHADES = {"Ada": 440.0, "Bob": 660.0}, {"Ada": 60, "Bob": 180}
LUMA_TOLERANCE = 12
# From the first publish to media both ways. An ICE agent waits up to 5 s for a TURN server
# that never answers before it finishes gathering, on each of the four peer connections.
MEDIA_BOUND = 40


def nothing_listens_on_udp(port):
    """True when 127.0.0.1:`port`/udp is free: the relay's address is a dead end."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ice_connection(peer_connection):
    """The aioice agent of an aiortc connection (bundled: one for all its transceivers)."""
    return peer_connection.getTransceivers()[0].sender.transport.transport._connection


@pytest.fixture
def server():
    assert nothing_listens_on_udp(DEAD_TURN_PORT), f"something listens on {DEAD_TURN_PORT}/udp: the relay would not be dead"
    instance = Server("faults-turn", PARLEY_PORT, {
        "RTC_PUBLIC_IP": "127.0.0.1", "RTC_UDP_PORT": str(MEDIA_PORT),
        "TURN_SECRET": SECRET, "ICE_TURN_URLS": DEAD_TURN_URL})
    yield instance
    instance.stop()


def test_call_connects_on_host_candidates_when_coturn_is_down(server):
    asyncio.run(_call_without_relay(server))


async def _call_without_relay(server):
    group, ada, bob = two_peers_in_a_group(server, "No relay")
    peers = {"Ada": ada, "Bob": bob}
    loop = asyncio.get_running_loop()
    try:
        for peer in peers.values():
            await peer.connect()
            config = await peer.join(group["id"])
            # The dead relay is handed out, with a TURN REST credential for this user.
            turn = [s for s in config["iceServers"] if any(url.startswith("turn:") for url in s["urls"])]
            assert len(turn) == 1 and turn[0]["urls"] == [DEAD_TURN_URL], config
            expiry, _, user = turn[0]["username"].partition(":")
            assert user == peer.user_id and int(expiry) > time.time() and turn[0]["credential"], turn
            assert peer.ice_servers == config["iceServers"]  # what the peer connections are built with

        started = loop.time()
        for name, peer in peers.items():
            await peer.publish(FREQUENCIES[name], SHADES[name])

        # Both hear and see the other, each tone and picture on its sender's track.
        while True:
            missing = []
            for name, peer in peers.items():
                other = "Bob" if name == "Ada" else "Ada"
                audio = peer.received_from(peers[other].user_id, "audio")
                video = peer.received_from(peers[other].user_id, "video")
                if audio is None or audio.frequency() is None:
                    missing.append(f"{name} <- {other} audio")
                if video is None or video.luma() is None:
                    missing.append(f"{name} <- {other} video")
            if not missing:
                break
            assert loop.time() - started < MEDIA_BOUND, \
                f"{MEDIA_BOUND} s after publishing with the relay down, still missing: {missing}; " \
                f"errors {ada.errors + bob.errors}"
            await asyncio.sleep(0.5)
        for name, peer in peers.items():
            other = "Bob" if name == "Ada" else "Ada"
            heard = peer.received_from(peers[other].user_id, "audio").frequency()
            assert abs(heard - FREQUENCIES[other]) < 15, f"{name} heard {heard} Hz from {other}"
            seen = peer.received_from(peers[other].user_id, "video").luma()
            assert abs(seen - expected_luma(SHADES[other])) < LUMA_TOLERANCE, f"{name} sees luma {seen:.1f} from {other}"

        # Every peer connection's ICE agent had the dead relay, got no relayed candidate from it,
        # and connected on a host candidate to Parley's media port.
        for name, peer in peers.items():
            for role, pc in (("publish", peer.publish_pc), ("subscribe", peer.subscribe_pc)):
                agent = ice_connection(pc)
                assert tuple(agent.turn_server) == ("127.0.0.1", DEAD_TURN_PORT), (name, role, agent.turn_server)
                kinds = {candidate.type for candidate in agent.local_candidates}
                assert kinds == {"host"}, f"{name}'s {role} connection gathered {kinds} with the relay down"
                pair = agent._nominated.get(1)
                assert pair is not None, f"{name}'s {role} connection nominated no pair"
                assert pair.local_candidate.type == "host" and pair.remote_candidate.port == MEDIA_PORT, (name, role, pair)
        assert nothing_listens_on_udp(DEAD_TURN_PORT), "something started listening on the dead relay's port"
    finally:
        for peer in peers.values():
            if getattr(peer, "socket", None) is not None:
                await peer.close()
