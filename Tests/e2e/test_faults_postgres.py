"""Parley on a PostgreSQL that fails: crashed and restarted under load, its LISTEN connection
killed, and Parley itself SIGKILLed mid-send.

Each test runs its own throwaway cluster (private_postgres.PrivatePostgres, PostgreSQL's default
durability settings) so that stopping or crashing it touches no other test. What they prove:

- While PostgreSQL is down, `/readyz` answers 503 on every instance, sends fail at once with
  503 `unavailable` (REST) or an `error` frame `unavailable` (WebSocket) instead of hanging or
  being acknowledged, and the processes stay up. When it is back, every instance is ready again
  on its own, closes its WebSockets with 1012 (its event bus reconnected, so events may have
  been missed), and events flow between instances again.
- When PostgreSQL kills the connection holding LISTEN, the instance listens again by itself,
  closes its WebSockets with 1012, and delivers the other instance's events again.
- Every acknowledged message survives (a PostgreSQL crash, a SIGKILL of Parley) exactly once,
  in its sender's order, and resending its clientMsgId answers the same message without a new
  row (acked_senders.verify_history).
"""
import json
import threading
import time
import urllib.error
import urllib.request

from websockets.exceptions import ConnectionClosed

from acked_senders import (SendLoad, Sender, group_with_senders, history, open_websocket,
                           sigkill_under_load_keeps_acknowledged, verify_history)
from parley_server import Server, two_instances
from private_postgres import PrivatePostgres

# How long one send may take to fail while PostgreSQL is down (a refused connection is
# immediate; the pool's own request timeout is 30 s, which would be a hang to a user).
SEND_BOUND = 5.0
# How long an instance may take to notice PostgreSQL is gone (/readyz 503), and to be ready
# again and to have closed its WebSockets with 1012 once it is back (the bus listener retries
# every second).
NOTICE_BOUND, RECOVERY_BOUND = 10.0, 30.0
SERVICE_RESTART = 1012


def instances(database_url, name, first_port):
    """Two Parley processes on `database_url`, without the message rate limit (the senders would
    be throttled)."""
    return two_instances(name, first_port, {"RATE_MESSAGES": "off"}, database_url=database_url)


def readyz(server):
    """The status of `/readyz`; no answer within 5 s fails (a readiness probe that hangs is
    as bad as a wrong one)."""
    try:
        with urllib.request.urlopen(f"{server.url}/readyz", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what() if callable(what) else what}"
        time.sleep(0.05)


def assert_alive(*servers):
    for server in servers:
        assert server.process.poll() is None, f"{server.name} exited with {server.process.returncode}; see {server.log.name}"


class Watcher:
    """A member's WebSocket read in a thread: every frame kept, and the close code once the
    server closes it (None when the connection broke without a close frame)."""

    def __init__(self, server, token):
        self.server = server
        self.socket = open_websocket(server.ws_url, 10)
        self.socket.send(json.dumps({"type": "auth", "id": "auth", "data": {"token": token}}))
        reply = json.loads(self.socket.recv(timeout=10))
        assert reply["type"] == "auth.success", reply
        self.frames, self.close_code, self.closed = [], None, threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            while True:
                self.frames.append(json.loads(self.socket.recv()))
        except ConnectionClosed as error:
            self.close_code = error.rcvd.code if error.rcvd is not None else None
        finally:
            self.closed.set()

    def wait_closed(self, timeout):
        assert self.closed.wait(timeout), f"WebSocket on {self.server.name} still open after {timeout} s"
        return self.close_code

    def message_new(self, message_id, timeout=10):
        """The `message.new` frames of `message_id` received, once at least one arrived."""
        def received():
            return [f for f in list(self.frames) if f["type"] == "message.new" and f["data"]["message"]["id"] == message_id]
        wait_for(lambda: received() or self.closed.is_set(), timeout,
                 f"message.new {message_id} on {self.server.name}")
        assert received(), f"WebSocket on {self.server.name} closed ({self.close_code}) before message.new {message_id}"
        return received()

    def close(self):
        self.socket.close()
        self.thread.join(5)


def events_flow(origin, origin_token, watcher, conversation, text):
    """A message sent over REST on `origin` reaches `watcher` (on another instance) as one
    `message.new`."""
    status, message = origin.call("POST", f"/conversations/{conversation}/messages", {"content": text}, origin_token)
    assert status == 201, (status, message)
    frames = watcher.message_new(message["id"])
    assert frames[0]["data"]["message"]["content"] == text
    return message


# -- PostgreSQL crashes and comes back while clients send

def refused_during_outage(server, token):
    """Opens a WebSocket and authenticates with a valid token: (the error frame's code, the close code)."""
    from websockets.sync.client import connect
    with connect(server.ws_url, open_timeout=10) as socket:
        socket.send(json.dumps({"type": "auth", "id": "auth", "data": {"token": token}}))
        frame = json.loads(socket.recv(timeout=10))
        try:
            socket.recv(timeout=10)
        except ConnectionClosed:
            pass
        return frame.get("data", {}).get("code"), socket.close_code


def test_postgres_restart_under_load():
    with PrivatePostgres(55611, name="faults-restart") as pg, instances(pg.url, "faults-restart", 18611) as (a, b):
        owner_token, conversation, members = group_with_senders(a, 8, "Restart")
        tokens = [token for _, token in members]
        ids = [user_id for user_id, _ in members]
        senders = [Sender("rest-a0", "rest", a, tokens[0], ids[0]), Sender("rest-b1", "rest", b, tokens[1], ids[1]),
                   Sender("rest-a2", "rest", a, tokens[2], ids[2]), Sender("ws-b0", "ws", b, tokens[3], ids[3]),
                   Sender("ws-a1", "ws", a, tokens[4], ids[4]), Sender("ws-b2", "ws", b, tokens[5], ids[5])]
        ws_senders = [s for s in senders if s.via == "ws"]
        # Idle clients on each instance, connected through the outage: they must be told to resync.
        watchers = [Watcher(a, tokens[6]), Watcher(b, tokens[7])]
        load = SendLoad(senders, conversation).start()
        try:
            load.wait_until_each_acked(5, timeout=60)

            stopped_at = time.monotonic()
            pg.stop("immediate")
            down_at = time.monotonic()
            assert not pg.running()

            # Both instances say they are not ready, and each sender's sends fail, with an error.
            wait_for(lambda: readyz(a) == 503 and readyz(b) == 503, NOTICE_BOUND,
                     lambda: f"/readyz with PostgreSQL down: A {readyz(a)}, B {readyz(b)}")

            def failures(sender):
                return [t for t in load.attempts_since(down_at, sender) if t.outcome != "ack"]

            def each_failed_three_times():
                stalled = load.stalled(SEND_BOUND)
                assert not stalled, f"sends unanswered for over {SEND_BOUND} s while PostgreSQL is down: {stalled}"
                return all(len(failures(s)) >= 3 for s in senders)
            load.wait_until(each_failed_three_times, 30,
                            lambda: f"3 failed sends per sender while PostgreSQL is down: {[len(failures(s)) for s in senders]}")
            load.wait_until(lambda: each_failed_three_times() and time.monotonic() - down_at >= 3, 10, "3 s of outage")
            assert readyz(a) == 503 and readyz(b) == 503, "an instance said ready while PostgreSQL was down"
            assert_alive(a, b)
            assert not [w for w in watchers if w.closed.is_set()], "WebSockets closed while PostgreSQL was down"
            # A WebSocket opened now cannot be authenticated against the database: it is told to
            # come back (`unavailable`, 1013), not that its login is bad (4401).
            for instance, token in ((a, tokens[6]), (b, tokens[7])):
                assert refused_during_outage(instance, token) == ("unavailable", 1013)

            restarted_at = time.monotonic()
            pg.start()
            up_at = time.monotonic()

            # What happened while it was down: every send that started after the crash and ended
            # before PostgreSQL was back failed with 503/`unavailable`, none was acknowledged, and
            # no send overlapping the outage took longer than SEND_BOUND.
            during = [t for t in load.attempts_since(down_at) if t.ended <= restarted_at]
            assert during, "no sends while PostgreSQL was down"
            wrong = [t for t in during if t.outcome != "error" or t.code != "unavailable"
                     or t.status not in (503, "error")]
            assert not wrong, f"sends while PostgreSQL was down that did not fail with unavailable: {wrong[:5]}"
            overlapping = [t for t in load.attempts_since(0) if t.ended >= stopped_at and t.started <= up_at]
            slow = [t for t in overlapping if t.duration > SEND_BOUND]
            assert not slow, f"sends took over {SEND_BOUND} s while PostgreSQL was down: {slow[:5]}"

            # Back: both ready on their own, their WebSockets closed with 1012...
            wait_for(lambda: readyz(a) == 200 and readyz(b) == 200, RECOVERY_BOUND,
                     lambda: f"/readyz after PostgreSQL came back: A {readyz(a)}, B {readyz(b)}")
            for watcher in watchers:
                code = watcher.wait_closed(RECOVERY_BOUND - (time.monotonic() - up_at))
                assert code == SERVICE_RESTART, f"{watcher.server.name} closed its WebSocket with {code}, not 1012"
            # ...the sending WebSockets too (each notices at its next send), and once they have
            # reconnected every sender's messages are acknowledged again.
            load.wait_until(lambda: all(any(c.sender == s.label for c in load.closes) for s in ws_senders),
                            RECOVERY_BOUND, lambda: f"sending WebSockets closed after the restart: {load.closes}")
            load.wait_until_each_acked(5, since=max(c.at for c in load.closes), timeout=60)
            assert_alive(a, b)
        except BaseException:
            load.stop(strict=False)
            raise
        finally:
            for watcher in watchers:
                watcher.close()
        acked = load.stop()

        # The only closes the senders saw were those 1012s: nothing cut them off while it was down.
        assert all(c.code == SERVICE_RESTART and c.phase == "session" and c.at > restarted_at for c in load.closes), load.closes
        assert any(ack.acked_at < stopped_at for ack in acked) and any(ack.acked_at > up_at for ack in acked)

        checked = verify_history(a, owner_token, conversation, acked)
        assert checked == len(acked)
        assert [m["id"] for m in history(b, owner_token, conversation)] == [m["id"] for m in history(a, owner_token, conversation)]

        # Reconnected clients get the other instance's events again, both ways.
        on_a, on_b = Watcher(a, tokens[6]), Watcher(b, tokens[7])
        try:
            events_flow(a, owner_token, on_b, conversation, "after the restart, from A")
            events_flow(b, owner_token, on_a, conversation, "after the restart, from B")
        finally:
            on_a.close()
            on_b.close()
        assert_alive(a, b)


# -- PostgreSQL kills the LISTEN connection

LISTENERS = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
             "AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid() ORDER BY pid")


def listener_pids(pg):
    return pg.sql(LISTENERS).split()


def test_listen_connection_killed_from_the_database():
    with PrivatePostgres(55621, name="faults-listen") as pg, instances(pg.url, "faults-listen", 18621) as (a, b):
        owner_token, conversation, members = group_with_senders(a, 2, "Listen")
        (_, ada_token), (_, bob_token) = members
        on_a, on_b = Watcher(a, ada_token), Watcher(b, bob_token)
        try:
            # The control: events cross both ways, through one LISTEN connection per instance.
            events_flow(a, owner_token, on_b, conversation, "before, from A")
            events_flow(b, owner_token, on_a, conversation, "before, from B")
            before = listener_pids(pg)
            assert len(before) == 2, f"expected one LISTEN backend per instance: {pg.sql('SELECT pid, query FROM pg_stat_activity')}"

            killed = pg.sql(f"SELECT pg_terminate_backend(pid) FROM ({LISTENERS}) AS listeners").split()
            assert killed == ["t", "t"], killed

            # Each instance listens again by itself, on a new connection, and closes its
            # WebSockets with 1012 so that clients fetch what they may have missed.
            for watcher in (on_a, on_b):
                code = watcher.wait_closed(RECOVERY_BOUND)
                assert code == SERVICE_RESTART, f"{watcher.server.name} closed its WebSocket with {code}, not 1012"
            wait_for(lambda: len(listener_pids(pg)) == 2, RECOVERY_BOUND, lambda: f"LISTEN backends: {listener_pids(pg)}")
            after = listener_pids(pg)
            assert not set(after) & set(before), (before, after)
            assert_alive(a, b)
            assert readyz(a) == 200 and readyz(b) == 200
        finally:
            on_a.close()
            on_b.close()

        on_a, on_b = Watcher(a, ada_token), Watcher(b, bob_token)
        try:
            first = events_flow(a, owner_token, on_b, conversation, "after, from A")
            events_flow(b, owner_token, on_a, conversation, "after, from B")
            # Once each, not once per listener: the sentinel, sent from A after the first, arrived
            # after it, so a second copy of the first would have had its chance.
            sentinel = events_flow(a, owner_token, on_b, conversation, "sentinel")
            assert len(on_b.message_new(first["id"])) == 1 and len(on_b.message_new(sentinel["id"])) == 1
            assert listener_pids(pg) == after, "the LISTEN connections changed again"
        finally:
            on_a.close()
            on_b.close()
        assert_alive(a, b)


# -- Parley SIGKILLed while clients send

def test_sigkill_keeps_every_acknowledged_message_postgres():
    with PrivatePostgres(55631, name="faults-sigkill") as pg:
        # The restarted server has the same key (PostgreSQL requires JWT_SIGNING_KEY) and data
        # folder (data_name), so the senders' tokens stay valid across the kill.
        env = {"DATABASE_URL": pg.url, "RATE_MESSAGES": "off", "JWT_SIGNING_KEY": "faults-sigkill-test-key-of-at-least-32-bytes"}
        sigkill_under_load_keeps_acknowledged(
            lambda name: Server(f"faults-sigkill-{name}", 18631, env, data_name="faults-sigkill"))

