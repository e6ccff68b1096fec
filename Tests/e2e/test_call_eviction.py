"""A member removed from a group mid-call is out of the call at once: real `parley serve`,
real aiortc peers, and (second test) two instances on one PostgreSQL."""
import asyncio

import pytest

from call_peer import two_peers_in_a_group
from parley_server import Server, two_instances
from ws_client import Client

# How long after the removal everything below must have happened.
DEADLINE = 5.0


@pytest.fixture
def server():
    instance = Server("call-eviction", 18295, {"RTC_PUBLIC_IP": "127.0.0.1"})
    yield instance
    instance.stop()


def test_removed_member_leaves_the_call_at_once(server):
    asyncio.run(_removed_mid_call(server))


async def _removed_mid_call(server):
    group, ada, bob = two_peers_in_a_group(server, "Eviction")
    conversation = group["id"]
    loop = asyncio.get_running_loop()
    try:
        for peer, tone, shade in ((ada, 440.0, 60), (bob, 660.0, 180)):
            await peer.connect()
            await peer.join(conversation)
            await peer.publish(tone, shade)
        # Media flows both ways before the removal.
        flowing_by = loop.time() + 25
        while True:
            pending = [f"{peer.name} <- {other.name} {kind}" for peer, other in ((ada, bob), (bob, ada))
                       for kind in ("audio", "video")
                       if (peer.received_from(other.user_id, kind) is None
                           or peer.received_from(other.user_id, kind).silent_for(loop.time()) > 0.5)]
            if not pending:
                break
            assert loop.time() < flowing_by, f"media not flowing: {pending}"
            await asyncio.sleep(0.2)
        bob_at_ada = {kind: ada.received_from(bob.user_id, kind) for kind in ("audio", "video")}
        ada_at_bob = {kind: bob.received_from(ada.user_id, kind) for kind in ("audio", "video")}
        marks = {peer.name: len(peer.frames) for peer in (ada, bob)}

        removed_at = loop.time()
        deadline = removed_at + DEADLINE

        def remaining():
            return max(0.01, deadline - loop.time())

        status, _ = server.call("DELETE", f"/conversations/{conversation}/members/{bob.user_id}", token=ada.token)
        assert status == 204

        left = await bob.wait_for("call.left", timeout=remaining(), since=marks["Bob"])
        assert left["data"] == {"conversationId": conversation, "reason": "removed"}, left
        await ada.wait_for("call.participant.left", timeout=remaining(), where=lambda d: d["userId"] == bob.user_id,
                           since=marks["Ada"])
        state = await ada.wait_for("call.state", timeout=remaining(), where=lambda d: bob.user_id not in d["participants"],
                                   since=marks["Ada"])
        assert state["data"]["participants"] == [ada.user_id], state

        # Bob's media stops reaching Ada, and Ada's stops reaching Bob: nothing for a second,
        # where frames came every 20-33 ms before.
        while True:
            now = loop.time()
            pending = [f"Ada still gets Bob's {kind}" for kind, got in bob_at_ada.items() if got.silent_for(now) < 1.0]
            pending += [f"Bob still gets Ada's {kind}" for kind, got in ada_at_bob.items() if got.silent_for(now) < 1.0]
            if not pending:
                break
            assert now < deadline, f"{now - removed_at:.1f} s after the removal: {pending}"
            await asyncio.sleep(0.1)

        # Bob can do nothing more in that call, and cannot join it again.
        await bob.send("call.publish", {"conversationId": conversation, "sdp": bob.publish_pc.localDescription.sdp}, id="again")
        refused = await bob.wait_for("error", timeout=5, where=lambda d: d.get("code") == "not_found", since=marks["Bob"])
        assert refused["id"] == "again", refused
        await bob.send("call.join", {"conversationId": conversation}, id="rejoin")
        await bob.wait_for("error", timeout=5, where=lambda d: d.get("code") == "not_found", since=len(bob.frames) - 1)
        assert not any(f["type"] == "call.config" for f in bob.frames[marks["Bob"]:]), "Bob joined again"

        status, call = server.call("GET", f"/conversations/{conversation}/call", token=ada.token)
        assert status == 200 and [p["userId"] for p in call["participants"]] == [ada.user_id], call
    finally:
        for peer in (ada, bob):
            await peer.close()


@pytest.fixture
def two_servers():
    with two_instances("call-eviction", 18296, {"RTC_PUBLIC_IP": "127.0.0.1"}) as servers:
        yield servers


def test_removal_and_logout_on_one_instance_end_calls_hosted_on_another(two_servers):
    asyncio.run(_across_instances(*two_servers))


async def _across_instances(a, b):
    """The call is on instance B (both sockets are there); the removal and the logout are made
    on A and reach B over the PostgreSQL bus."""
    ada_id, ada_token = a.sign_up("Ada")
    bob_id, bob_token = a.sign_up("Bob")
    status, login = a.call("POST", "/auth/login", {"email": a.call("GET", "/users/me", token=bob_token)[1]["email"],
                                                   "password": "password123"})
    assert status == 200, login
    status, group = a.call("POST", "/conversations", {"kind": "group", "title": "Across", "memberIds": [bob_id]}, ada_token)
    assert status == 201
    status, other = a.call("POST", "/conversations", {"kind": "group", "title": "Other", "memberIds": [bob_id]}, ada_token)
    assert status == 201

    ada = await Client.connect(b.ws_url, ada_token)
    bob = await Client.connect(b.ws_url, bob_token)
    bob_second = await Client.connect(b.ws_url, login["accessToken"])
    try:
        for client in (ada, bob):
            await client.send("call.join", {"conversationId": group["id"]}, id="join")
            await client.next("call.config")
        await bob_second.send("call.join", {"conversationId": other["id"]}, id="join")
        await bob_second.next("call.config")

        status, _ = a.call("DELETE", f"/conversations/{group['id']}/members/{bob_id}", token=ada_token)
        assert status == 204
        left = await bob.next("call.left", timeout=DEADLINE)
        assert left["data"] == {"conversationId": group["id"], "reason": "removed"}, left
        await ada.next("call.participant.left", timeout=DEADLINE, where=lambda f: f["data"]["userId"] == bob_id)
        status, call = b.call("GET", f"/conversations/{group['id']}/call", token=ada_token)
        assert [p["userId"] for p in call["participants"]] == [ada_id], call

        # Bob's second login, in the other call, logs out on A: its call ends on B, reason revoked.
        status, _ = a.call("POST", "/auth/logout", {"refreshToken": login["refreshToken"]})
        assert status == 204
        left = await bob_second.next("call.left", timeout=DEADLINE)
        assert left["data"] == {"conversationId": other["id"], "reason": "revoked"}, left
        status, call = b.call("GET", f"/conversations/{other['id']}/call", token=ada_token)
        assert call["active"] is False, call
    finally:
        for client in (ada, bob, bob_second):
            await client.close()


def test_shutdown_ends_calls_with_reason_server():
    asyncio.run(_shutdown())


async def _shutdown():
    server = Server("call-eviction-shutdown", 18298, {"RTC_PUBLIC_IP": "127.0.0.1"})
    ada = None
    try:
        ada_id, ada_token = server.sign_up("Ada")
        status, group = server.call("POST", "/conversations", {"kind": "group", "title": "Bye", "memberIds": []}, ada_token)
        assert status == 201
        ada = await Client.connect(server.ws_url, ada_token)
        await ada.send("call.join", {"conversationId": group["id"]}, id="join")
        await ada.next("call.config")
        server.process.terminate()  # SIGTERM: a graceful shutdown
        left = await ada.next("call.left", timeout=DEADLINE)
        assert left["data"] == {"conversationId": group["id"], "reason": "server"}, left
    finally:
        if ada is not None:
            await ada.close()
        server.stop()
