"""Three aiortc peers in one group call through Parley's SFU (issue: SFU calls)."""
import asyncio

import pytest

from call_peer import CallPeer, expected_luma, two_peers_in_a_group
from parley_server import Server
from ws_client import Client

FREQUENCIES = {"Ada": 440.0, "Bob": 660.0, "Cy": 880.0}
# The grey each one's video shows in its top half: a receiver reads it back to tell whose
# picture a track carries, as the tone tells whose audio.
SHADES = {"Ada": 60, "Bob": 120, "Cy": 180}
# How far a decoded picture's mean luma may be from the grey sent; the shades are ~51 apart.
LUMA_TOLERANCE = 12


@pytest.fixture
def server():
    instance = Server("call-aiortc", 18291, {"RTC_PUBLIC_IP": "127.0.0.1"})
    yield instance
    instance.stop()


def test_three_peers_hear_and_see_each_other(server):
    asyncio.run(_three_peers(server))


async def _three_peers(server):
    users = {name: server.sign_up(name) for name in FREQUENCIES}
    dee_id, dee_token = server.sign_up("Dee")
    owner_token = users["Ada"][1]
    status, group = server.call("POST", "/conversations", {
        "kind": "group", "title": "Call", "memberIds": [users["Bob"][0], users["Cy"][0], dee_id]}, owner_token)
    assert status == 201, group
    conversation = group["id"]

    peers = {name: CallPeer(name, server.ws_url, token, user_id) for name, (user_id, token) in users.items()}
    try:
        for name, peer in peers.items():
            await peer.connect()
            await peer.join(conversation)
            await peer.publish(FREQUENCIES[name], SHADES[name])

        # Each receives the other two's audio and video, and each tone and each picture is on
        # its sender's track.
        deadline = asyncio.get_running_loop().time() + 25
        while True:
            missing = []
            for name, peer in peers.items():
                for other, (other_id, _) in users.items():
                    if other == name:
                        continue
                    audio, video = peer.received_from(other_id, "audio"), peer.received_from(other_id, "video")
                    if audio is None or audio.frequency() is None:
                        missing.append(f"{name} <- {other} audio")
                    if video is None or video.frames < 10 or video.luma() is None:
                        missing.append(f"{name} <- {other} video")
            if not missing:
                break
            assert asyncio.get_running_loop().time() < deadline, f"still missing: {missing}"
            await asyncio.sleep(0.5)
        for name, peer in peers.items():
            for other, (other_id, _) in users.items():
                if other != name:
                    heard = peer.received_from(other_id, "audio").frequency()
                    assert abs(heard - FREQUENCIES[other]) < 15, f"{name} heard {heard} Hz from {other}"
                    seen = peer.received_from(other_id, "video").luma()
                    assert abs(seen - expected_luma(SHADES[other])) < LUMA_TOLERANCE, \
                        f"{name} sees luma {seen:.1f} on {other}'s video track, not {other}'s {expected_luma(SHADES[other]):.1f}"

        # The audio-level header extension of every tone makes its sender an active speaker.
        speakers = set()
        for peer in peers.values():
            for frame in peer.frames:
                if frame["type"] == "call.active-speaker":
                    speakers.update(frame["data"]["speakers"])
        assert speakers == {user_id for user_id, _ in users.values()}, speakers

        # Someone joining now is told who is speaking with the join, not at the next change.
        dee = CallPeer("Dee", server.ws_url, dee_token, dee_id)
        try:
            await dee.connect()
            await dee.join(conversation)
            told = await dee.wait_for("call.active-speaker", timeout=1)
            assert set(told["data"]["speakers"]) <= speakers and told["data"]["speakers"], told
        finally:
            await dee.close()

        status, call = server.call("GET", f"/conversations/{conversation}/call", token=owner_token)
        assert status == 200 and call["active"] and len(call["participants"]) == 3, call
        assert all(len(p["tracks"]) == 2 for p in call["participants"]), call

        # Cy leaves: within 5 s of the leave (one deadline for everything below) the others see
        # it leave and its tracks unpublished, its media stops reaching them, and their
        # subscribe connections are renegotiated with its sections inactive.
        cy_id = users["Cy"][0]
        cy_media, cy_mids = {}, {}
        for name in ("Ada", "Bob"):
            peer = peers[name]
            cy_media[name] = {kind: peer.received_from(cy_id, kind) for kind in ("audio", "video")}
            cy_mids[name] = {mid for mid, track in peer.mid_track.items() if peer.track_owner.get(track, (None,))[0] == cy_id}
            assert len(cy_mids[name]) == 2 and all(cy_media[name].values()), (name, cy_mids[name], cy_media[name])
        marks = {name: len(peers[name].frames) for name in ("Ada", "Bob")}
        loop = asyncio.get_running_loop()
        left_at = loop.time()
        deadline = left_at + 5

        def remaining():
            return max(0.01, deadline - loop.time())

        await peers["Cy"].send("call.leave", {"conversationId": conversation})
        for name in ("Ada", "Bob"):
            peer = peers[name]
            await peer.wait_for("call.participant.left", timeout=remaining(), where=lambda d: d["userId"] == cy_id, since=marks[name])
            for kind in ("audio", "video"):
                await peer.wait_for("call.track.unpublished", timeout=remaining(),
                                    where=lambda d, kind=kind: d["userId"] == cy_id and d["track"]["kind"] == kind,
                                    since=marks[name])
            state = await peer.wait_for("call.state", timeout=remaining(), where=lambda d: cy_id not in d["participants"],
                                        since=marks[name])
            assert state["data"]["active"]
        # Stopped: nothing of Cy's for a second, which (frames arriving every 20-33 ms before)
        # can only be after the leave.
        while True:
            now, pending = loop.time(), []
            for name in ("Ada", "Bob"):
                peer = peers[name]
                for kind, received in cy_media[name].items():
                    if received.silent_for(now) < 1.0:
                        pending.append(f"{name} still gets Cy's {kind}")
                directions = {t.mid: t.currentDirection for t in peer.subscribe_pc.getTransceivers() if t.mid in cy_mids[name]}
                if set(directions.values()) != {"inactive"} or set(peer.mid_track) & cy_mids[name]:
                    pending.append(f"{name}'s sections of Cy are {directions}")
            if not pending:
                break
            assert now < deadline, f"{now - left_at:.1f} s after Cy left: {pending}"
            await asyncio.sleep(0.1)
        # Renegotiated without Cy's tracks, they keep receiving each other.
        await asyncio.sleep(2)
        for name, other in (("Ada", "Bob"), ("Bob", "Ada")):
            video = peers[name].received_from(users[other][0], "video")
            before = video.frames
            await asyncio.sleep(1.5)
            assert video.frames > before, f"{name} stopped receiving {other}'s video after Cy left"
    finally:
        for peer in peers.values():
            await peer.close()


def test_an_unusable_subscribe_answer_is_refused_and_offered_again(server):
    asyncio.run(_unusable_answer(server))


async def _unusable_answer(server):
    group, ada, bob = two_peers_in_a_group(server, "Retry")
    ada_id = ada.user_id
    try:
        for peer in (ada, bob):
            await peer.connect()
            await peer.join(group["id"])
        bob.spoil_answers = 1
        await ada.publish(FREQUENCIES["Ada"], SHADES["Ada"])
        first = await bob.wait_for("call.subscribe.offer")
        revision = first["data"]["revision"]
        # Bob's answer is refused, with its id, and the next revision offered to him at once...
        error = await bob.wait_for("error", timeout=5)
        assert error.get("id") == f"answer-{revision}" and error["data"]["code"] == "invalid_field", error
        assert error["data"].get("field") == "sdp", error
        await bob.wait_for("call.subscribe.offer", timeout=5, where=lambda d: d["revision"] == revision + 1)
        # ...which he answers, and then hears and sees Ada.
        deadline = asyncio.get_running_loop().time() + 20
        while True:
            audio, video = bob.received_from(ada_id, "audio"), bob.received_from(ada_id, "video")
            if audio and audio.frequency() and video and video.luma() is not None:
                break
            assert asyncio.get_running_loop().time() < deadline, f"Bob gets nothing of Ada; errors {bob.errors}"
            await asyncio.sleep(0.5)
        assert abs(audio.frequency() - FREQUENCIES["Ada"]) < 15, audio.frequency()
        assert abs(video.luma() - expected_luma(SHADES["Ada"])) < LUMA_TOLERANCE, video.luma()
        assert len(bob.errors) == 1, bob.errors
    finally:
        await ada.close()
        await bob.close()


def test_non_member_cannot_join_a_call(server):
    asyncio.run(_non_member(server))


async def _non_member(server):
    ada_id, ada_token = server.sign_up("Ada")
    bob_id, _ = server.sign_up("Bob")
    eve_id, eve_token = server.sign_up("Eve")
    status, group = server.call("POST", "/conversations", {"kind": "group", "title": "Private", "memberIds": [bob_id]}, ada_token)
    assert status == 201
    eve = await Client.connect(server.ws_url, eve_token)
    try:
        await eve.send("call.join", {"conversationId": group["id"]}, id="sneak")
        error = await eve.next("error")
        assert error["id"] == "sneak" and error["data"]["code"] == "not_found", error
        status, call = server.call("GET", f"/conversations/{group['id']}/call", token=eve_token)
        assert status == 404
    finally:
        await eve.close()


def test_closing_the_websocket_leaves_the_call(server):
    asyncio.run(_close_leaves(server))


async def _close_leaves(server):
    group, ada, bob = two_peers_in_a_group(server, "Drop")
    ada_id, bob_id = ada.user_id, bob.user_id
    try:
        for peer in (ada, bob):
            await peer.connect()
            await peer.join(group["id"])
        await ada.wait_for("call.participant.joined", where=lambda d: d["userId"] == bob_id)
        mark = len(ada.frames)
        await bob.socket.close()
        await ada.wait_for("call.participant.left", timeout=5, where=lambda d: d["userId"] == bob_id, since=mark)
        state = await ada.wait_for("call.state", timeout=5, where=lambda d: bob_id not in d["participants"], since=mark)
        assert state["data"]["participants"] == [ada_id]
        status, call = server.call("GET", f"/conversations/{group['id']}/call", token=ada.token)
        assert [p["userId"] for p in call["participants"]] == [ada_id]
    finally:
        await ada.close()
        await bob.close()


def test_a_full_call_refuses_one_more():
    limited = Server("call-limit", 18292, {"RTC_PUBLIC_IP": "127.0.0.1", "CALL_MAX_PARTICIPANTS": "2"})
    try:
        asyncio.run(_full(limited))
    finally:
        limited.stop()


async def _full(server):
    users = [server.sign_up(name) for name in ("Ada", "Bob", "Cy")]
    status, group = server.call("POST", "/conversations", {
        "kind": "group", "title": "Small", "memberIds": [users[1][0], users[2][0]]}, users[0][1])
    assert status == 201
    clients = [await Client.connect(server.ws_url, token) for _, token in users]
    try:
        for client in clients[:2]:
            await client.send("call.join", {"conversationId": group["id"]}, id="join")
            assert (await client.next("call.config"))["id"] == "join"
        await clients[2].send("call.join", {"conversationId": group["id"]}, id="third")
        error = await clients[2].next("error")
        assert error["id"] == "third" and error["data"]["code"] == "call_full", error
        # A call frame from someone who has not joined is refused too.
        await clients[2].send("call.leave", {"conversationId": group["id"]}, id="leave")
        error = await clients[2].next("error")
        assert error["id"] == "leave" and error["data"]["code"] == "not_in_call", error
    finally:
        for client in clients:
            await client.close()


def test_a_section_left_by_one_publisher_carries_the_next(server):
    asyncio.run(_section_reuse(server))


async def _section_reuse(server):
    """Ada stays while Bob publishes and leaves, then Cy publishes: Ada's subscribe offer puts
    Cy's tracks in the sections Bob's had (same mids, no new m-lines), and aiortc plays them."""
    group, ada, bob = two_peers_in_a_group(server, "Reuse")
    cy_id, cy_token = server.sign_up("Cy")
    status, _ = server.call("POST", f"/conversations/{group['id']}/members", {"userId": cy_id}, ada.token)
    assert status in (200, 201, 204), status
    cy = CallPeer("Cy", server.ws_url, cy_token, cy_id)
    loop = asyncio.get_running_loop()
    try:
        await ada.connect()
        await ada.join(group["id"])
        await bob.connect()
        await bob.join(group["id"])
        await bob.publish(FREQUENCIES["Bob"], SHADES["Bob"])
        deadline = loop.time() + 20
        while not (ada.received_from(bob.user_id, "audio") and ada.received_from(bob.user_id, "audio").frequency()):
            assert loop.time() < deadline, "Ada never heard Bob"
            await asyncio.sleep(0.2)
        bob_mids = set(ada.mid_track)
        await bob.send("call.leave", {"conversationId": group["id"]})
        deadline = loop.time() + 10
        while set(ada.mid_track) & bob_mids:
            assert loop.time() < deadline, "Bob's sections never went inactive for Ada"
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)  # the inactive offer answered
        await cy.connect()
        await cy.join(group["id"])
        await cy.publish(FREQUENCIES["Cy"], SHADES["Cy"])
        # The receivers are the ones that played Bob: wait for Cy's tone and grey on them.
        deadline = loop.time() + 25
        heard = seen = None
        while True:
            audio, video = ada.received_from(cy_id, "audio"), ada.received_from(cy_id, "video")
            heard = audio.frequency() if audio else None
            seen = video.luma() if video else None
            if heard and abs(heard - FREQUENCIES["Cy"]) < 15 and seen is not None \
                    and abs(seen - expected_luma(SHADES["Cy"])) < LUMA_TOLERANCE:
                break
            assert loop.time() < deadline, f"Ada never got Cy on a reused section: {ada.mid_track}, heard {heard}, seen {seen}"
            await asyncio.sleep(0.3)
        assert set(ada.mid_track) == bob_mids, (ada.mid_track, bob_mids)
        assert len(ada.subscribe_pc.getTransceivers()) == 2
    finally:
        for peer in (ada, bob, cy):
            if getattr(peer, "socket", None) is not None:
                await peer.close()
