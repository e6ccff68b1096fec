"""SQLite under faults: SIGKILL under load, and the disk under the data folder filling up.

SIGKILL while three REST and three WebSocket senders send: after a restart on the same data,
every acknowledged message is there once, in order, and resending it answers the same message
(Tests/e2e/acked_senders.py). The server runs SQLite with `synchronous=FULL`, so the same holds
for a power loss (each COMMIT syncs the write-ahead log before the acknowledgement).

The data folder is a small filesystem of the test's own (a 24 MiB tmpfs mounted for this test
only). A filler file takes what is left; then sends must fail with a clear error (507
`storage_full` over REST, the same code in an `error` frame over the WebSocket) and nothing
acknowledged may be lost; reads keep working; once the filler is gone, sends work again, and
after a restart on the same data every acknowledged message is there once.
"""
import asyncio
import contextlib
import errno
import os
import subprocess
import tempfile
import uuid

from acked_senders import history, sigkill_under_load_keeps_acknowledged
from parley_server import Server
from ws_client import Client

CONTENT = "x" * 3000  # a message big enough that the log outgrows what is left quickly

@contextlib.contextmanager
def small_filesystem(megabytes):
    assert os.geteuid() == 0, "mounting the test's own filesystem needs root (CI and scripts/test run as root)"
    folder = tempfile.mkdtemp(prefix="parley-full-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0755", "parley-small", folder], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", folder], check=False)
        os.rmdir(folder)

def fill(path):
    """Writes zeros to `path` until the filesystem says ENOSPC; returns the bytes written."""
    written = 0
    with open(path, "wb", buffering=0) as handle:
        chunk = bytes(64 * 1024)
        while True:
            try:
                written += handle.write(chunk)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
                break
        # Whatever fits of a smaller write too, so not even a page is left.
        for size in (4096, 512, 1):
            while True:
                try:
                    written += handle.write(bytes(size))
                except OSError:
                    break
    return written

def send_rest(server, token, conversation):
    client_id = uuid.uuid4().hex
    status, body = server.call("POST", f"/conversations/{conversation}/messages",
                               {"content": CONTENT, "clientMsgId": client_id}, token)
    return status, body, client_id

def test_sigkill_keeps_every_acknowledged_message_sqlite():
    sigkill_under_load_keeps_acknowledged(
        lambda name: Server(f"faults-sqlite-sigkill-{name}", 18533, {"RATE_MESSAGES": "off"}, data_name="faults-sqlite-sigkill"))


def test_a_full_disk_refuses_sends_clearly_keeps_reads_and_recovers():
    with small_filesystem(24) as data:
        server = Server("faults-disk-full", 18531, {"DATA_DIR": data})
        try:
            acknowledged, token, conversation = asyncio.run(_disk_full(server, data))
            assert server.process.poll() is None, "the server exited while the disk was full"
        finally:
            server.stop()
        # A restart on the same data: everything acknowledged, once, in order.
        again = Server("faults-disk-full-restarted", 18532, {"DATA_DIR": data})
        try:
            messages = history(again, token, conversation)
            by_client = [m["clientMsgId"] for m in messages if m["clientMsgId"]]
            assert [c for c in by_client if c in acknowledged] == list(acknowledged), "acknowledged messages lost or reordered"
            assert len(by_client) == len(set(by_client)), "a message is stored twice"
        finally:
            again.stop()

async def _disk_full(server, data):
    ada_id, ada = server.sign_up("Ada")
    bob_id, bob = server.sign_up("Bob")
    status, group = server.call("POST", "/conversations", {"kind": "group", "title": "Full", "memberIds": [bob_id]}, ada)
    assert status == 201, group
    conversation = group["id"]
    acknowledged = {}  # clientMsgId -> message id, in acknowledgement order
    for _ in range(5):
        status, body, client_id = send_rest(server, ada, conversation)
        assert status == 201, body
        acknowledged[client_id] = body["id"]

    socket = await Client.connect(server.ws_url, bob)
    try:
        filler = os.path.join(data, "filler")
        assert fill(filler) > 0
        # The log may still have room it took earlier: keep sending until the disk refuses,
        # which must happen within what 24 MiB could hold.
        refused = None
        for _ in range(24 * 1024 * 1024 // len(CONTENT)):
            status, body, client_id = send_rest(server, ada, conversation)
            if status == 201:
                acknowledged[client_id] = body["id"]
                continue
            refused = (status, body)
            break
        assert refused is not None, "sends never failed on a full disk"
        assert refused[0] == 507 and refused[1]["error"]["code"] == "storage_full", refused

        # The WebSocket says the same, with the request's id; the connection stays open.
        frame_id = uuid.uuid4().hex
        await socket.send("message.send", {"conversationId": conversation, "content": CONTENT, "clientMsgId": frame_id},
                          id="full")
        error = await socket.next("error", timeout=10, where=lambda frame: frame.get("id") == "full")
        assert error["data"]["code"] == "storage_full", error

        # Reads keep working, and hold every acknowledged message.
        messages = history(server, bob, conversation)
        stored = [m["clientMsgId"] for m in messages]
        assert [c for c in stored if c in acknowledged] == list(acknowledged)
        assert refused_not_stored(stored, acknowledged)

        # Space comes back: sends work again, over REST and the WebSocket.
        os.remove(filler)
        status, body, client_id = send_rest(server, ada, conversation)
        assert status == 201, body
        acknowledged[client_id] = body["id"]
        await socket.send("message.send", {"conversationId": conversation, "content": "back", "clientMsgId": frame_id},
                          id="back")
        sent = await socket.next("message.sent", timeout=10, where=lambda frame: frame.get("id") == "back")
        acknowledged[frame_id] = sent["data"]["message"]["id"]
    finally:
        await socket.close()
    return acknowledged, ada, conversation

def refused_not_stored(stored, acknowledged):
    """Nothing but acknowledged messages is stored: a refused send left no row behind."""
    return all(client_id in acknowledged for client_id in stored if client_id)
