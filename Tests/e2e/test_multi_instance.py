"""Two Parley processes on one real PostgreSQL deliver each other's events to their own clients."""
import asyncio

import pytest

from parley_server import two_instances
from ws_client import Client


@pytest.fixture
def two_servers():
    with two_instances("instance", 18191) as servers:
        yield servers


def test_events_cross_instances(two_servers):
    a, b = two_servers
    asyncio.run(_cross_instances(a, b))


async def _cross_instances(a, b):
    ada_id, ada_token = a.sign_up("Ada")
    bob_id, bob_token = b.sign_up("Bob")
    cy_id, cy_token = b.sign_up("Cy")
    status, group = a.call("POST", "/conversations", {"kind": "group", "title": "Both", "memberIds": [bob_id]}, ada_token)
    assert status == 201
    conversation = group["id"]

    bob = await Client.connect(b.ws_url, bob_token)
    cy = await Client.connect(b.ws_url, cy_token)
    ada = await Client.connect(a.ws_url, ada_token)

    # Presence: Ada's first connection, on instance A, reaches Bob on instance B.
    online = await bob.next("presence", where=lambda f: f["data"]["userId"] == ada_id)
    assert online["data"]["online"] is True

    # A message sent over A's WebSocket reaches Bob on B.
    await ada.send("message.send", {"conversationId": conversation, "content": "hello from A", "clientMsgId": "x1"}, id="s1")
    sent = await ada.next("message.sent")
    new = await bob.next("message.new")
    assert new["data"]["message"]["id"] == sent["data"]["message"]["id"]
    own = await ada.next("message.new")  # the sending connection gets it too
    assert own["data"]["message"]["id"] == sent["data"]["message"]["id"]

    # Typing crosses too, and so does its end on send.
    await ada.send("typing.start", {"conversationId": conversation})
    typing = await bob.next("typing")
    assert typing["data"] == {"conversationId": conversation, "userId": ada_id, "typing": True}

    # Messages from both instances arrive in the same order everywhere, in id order.
    for index in range(10):
        await ada.send("message.send", {"conversationId": conversation, "content": f"a{index}"})
        await bob.send("message.send", {"conversationId": conversation, "content": f"b{index}"})
    seen_by_ada = [(await ada.next("message.new"))["data"]["message"]["id"] for _ in range(20)]
    seen_by_bob = [(await bob.next("message.new"))["data"]["message"]["id"] for _ in range(20)]
    assert seen_by_ada == seen_by_bob
    assert seen_by_ada == sorted(seen_by_ada)

    # Membership over REST on A reaches the added user connected to B.
    status, _ = a.call("POST", f"/conversations/{conversation}/members", {"userId": cy_id}, ada_token)
    assert status == 201
    added = await cy.next("member.added")
    assert added["data"] == {"conversationId": conversation, "userId": cy_id}

    # A large message (over NOTIFY's 8000-byte payload) still crosses.
    big = "é" * 4000
    status, posted = b.call("POST", f"/conversations/{conversation}/messages", {"content": big}, bob_token)
    assert status == 201
    large = await ada.next("message.new", where=lambda f: f["data"]["message"]["id"] == posted["id"])
    assert large["data"]["message"]["content"] == big

    # Ada's last disconnect on A: Bob on B sees her go offline.
    await ada.close()
    offline = await bob.next("presence", where=lambda f: f["data"]["userId"] == ada_id and not f["data"]["online"])
    assert offline["data"]["lastSeenAt"]
    await bob.close()
    await cy.close()
