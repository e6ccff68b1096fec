"""Sending messages under load while something breaks, and checking afterwards that every
acknowledged message is in the history exactly once.

The promise under test: Parley answers `201`/`200` to `POST /conversations/{id}/messages`, and
`message.sent` to a WebSocket `message.send`, only after the message's transaction committed.
So whatever happens to the server or its database after an acknowledgement (a SIGKILL, a
PostgreSQL crash, a restart), the acknowledged message must be in the history, once, where its
sender's earlier messages are before it, and resending it with its `clientMsgId` must answer
the same message without storing another.

Each sender is one user sending numbered messages one at a time, each with a unique
`clientMsgId`, over REST or over its own WebSocket. A send that fails (an error answer, a refused
or dropped connection, no answer in time) is retried with the *same* `clientMsgId`, as a real
client does with an unacknowledged message, so a send whose commit happened but whose answer
was lost is answered by the retry as the first message (200), never stored twice. Every attempt
is recorded with its times and outcome, so a test can also check how sends fail while
something is down, and every WebSocket close with its code.

The servers must run with `RATE_MESSAGES=off` (a sender would otherwise be throttled, and the
resends of `verify_history` too). Senders pace themselves (`interval`) below the WebSocket's
per-connection frame limit (20 frames/s, then close 4429).

Used by test_faults_postgres.py; written to be reused for the same checks on SQLite.
"""
import concurrent.futures
import json
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

def open_websocket(url, timeout):
    """A blocking WebSocket client connection to `url`, closed by its user with `.close()`.
    (Entered as a context manager so that websockets 17.1+ does not warn about a connection
    used without one; on older versions that is a no-op.)"""
    return ws_connect(url, open_timeout=timeout, max_size=2 ** 20, close_timeout=2).__enter__()


# No answer within this many seconds counts as a hang: the attempt is recorded as `timeout`.
REPLY_TIMEOUT = 30.0


@dataclass
class Ack:
    """One acknowledged message, as its sender was told: `status` is 201 or 200 for REST,
    "message.sent" for the WebSocket."""
    sender: str
    via: str
    server: str
    token: str = field(repr=False)
    user_id: str
    client_msg_id: str
    content: str
    message_id: str
    status: object
    acked_at: float  # time.monotonic()


@dataclass
class Attempt:
    """One try of one message. `outcome` is "ack", "error" (an error answer: `status` is the
    HTTP status or "error" for a WebSocket error frame, `code` its code), "closed" (the
    WebSocket closed before an answer), "unreachable" (no connection, or it broke) or
    "timeout" (no answer within the reply timeout)."""
    sender: str
    via: str
    client_msg_id: str
    started: float
    ended: float
    outcome: str
    status: object = None
    code: str = None
    detail: str = ""

    @property
    def duration(self):
        return self.ended - self.started


@dataclass
class Close:
    """A WebSocket of a sender closed by the server (or broken: `code` None)."""
    sender: str
    code: object
    at: float
    phase: str  # "auth" (while authenticating) or "session"


@dataclass
class Sender:
    """Who sends: a user's access `token`, over `via` ("rest" or "ws"), to `server` (any object
    with `.url`, `.ws_url` and a `.name`). `label` names it in records and clientMsgIds."""
    label: str
    via: str
    server: object = field(repr=False)
    token: str = field(repr=False)
    user_id: str = None
    acks: list = field(default_factory=list, repr=False)


class SendLoad:
    """Senders running in threads until `stop`. Records, all guarded by one lock:
    `acks` (every Ack, in the order they were acknowledged), `attempts` (every Attempt) and
    `closes` (every Close)."""

    def __init__(self, senders, conversation, interval=0.1, reply_timeout=REPLY_TIMEOUT):
        assert all(s.via in ("rest", "ws") for s in senders), [s.via for s in senders]
        self.senders, self.conversation = senders, conversation
        self.interval, self.reply_timeout = interval, reply_timeout
        self.lock = threading.Lock()
        self.acks, self.attempts, self.closes, self.crashes = [], [], [], []
        self.in_flight = {}  # sender label -> (clientMsgId, started) of the attempt waiting for its answer
        self._stop = threading.Event()
        self._threads = []
        self.run_id = uuid.uuid4().hex[:8]

    def start(self):
        for sender in self.senders:
            thread = threading.Thread(target=self._run, args=(sender,), name=f"sender-{sender.label}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, strict=True):
        """Stops every sender (the message each is trying is given up, unacknowledged) and
        returns every Ack. Raises if a sender does not end: each attempt is bounded by the
        reply timeout, so one that does not end is a hang. With `strict` false (a test that
        is failing already) it waits only briefly and raises nothing."""
        self._stop.set()
        for thread in self._threads:
            thread.join(self.reply_timeout + 15 if strict else 1)
        if strict:
            stuck = [thread.name for thread in self._threads if thread.is_alive()]
            assert not stuck, f"senders still running {self.reply_timeout + 15:.0f} s after stop: {stuck}"
            assert not self.crashes, f"senders failed: {self.crashes}"
        with self.lock:
            return list(self.acks)

    # -- looking at the records while it runs

    def acked_by(self, sender, since=0.0):
        with self.lock:
            return [ack for ack in sender.acks if ack.acked_at >= since]

    def attempts_since(self, since, sender=None):
        with self.lock:
            return [a for a in self.attempts if a.started >= since and (sender is None or a.sender == sender.label)]

    def stalled(self, bound):
        """The attempts waiting for an answer for more than `bound` seconds now: (sender,
        clientMsgId, seconds waited)."""
        now = time.monotonic()
        with self.lock:
            return [(label, client_msg_id, round(now - started, 1))
                    for label, (client_msg_id, started) in self.in_flight.items() if now - started > bound]

    def wait_until(self, condition, timeout, what):
        """Polls `condition()` every 50 ms until it is true; fails naming `what` (a string, or a
        function that says what is missing) after `timeout` s."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert not self.crashes, f"senders failed: {self.crashes}"
            assert time.monotonic() < deadline, f"not within {timeout} s: {what() if callable(what) else what}"
            time.sleep(0.05)

    def wait_until_each_acked(self, count, since=0.0, timeout=30):
        """Waits until every sender has had `count` messages acknowledged at or after `since`."""
        self.wait_until(lambda: all(len(self.acked_by(s, since)) >= count for s in self.senders), timeout,
                        lambda: f"{count} acknowledgements per sender: "
                        + ", ".join(f"{s.label}={len(self.acked_by(s, since))}" for s in self.senders)
                        + f"; last attempts {self.attempts[-3:]}")

    # -- the senders

    def _run(self, sender):
        socket_ = None
        number, pending = 0, None
        try:
            while not self._stop.is_set():
                if pending is None:
                    number += 1
                    client_msg_id = f"{sender.label}-{self.run_id}-{number}"
                    pending = (client_msg_id, f"{sender.label} message {number}")
                started = time.monotonic()
                with self.lock:
                    self.in_flight[sender.label] = (pending[0], started)
                if sender.via == "rest":
                    result = self._send_rest(sender, *pending)
                else:
                    socket_, result = self._send_ws(sender, socket_, *pending)
                ended = time.monotonic()
                outcome, status, code, detail, message = result
                with self.lock:
                    del self.in_flight[sender.label]
                    self.attempts.append(Attempt(sender.label, sender.via, pending[0], started, ended, outcome, status, code, detail))
                    if outcome == "ack":
                        # What the answer says is checked by verify_history against the history.
                        ack = Ack(sender.label, sender.via, getattr(sender.server, "name", sender.server.url), sender.token,
                                  message["sender"]["id"], pending[0], pending[1], message["id"], status, ended)
                        sender.acks.append(ack)
                        self.acks.append(ack)
                if outcome == "ack":
                    pending = None
                self._stop.wait(self.interval)
        except Exception as error:  # a defect of this module: stop() reports it
            with self.lock:
                self.crashes.append(f"{sender.label}: {error!r}")
            raise
        finally:
            if socket_ is not None:
                socket_.close()

    def _send_rest(self, sender, client_msg_id, content):
        body = json.dumps({"content": content, "clientMsgId": client_msg_id}).encode()
        request = urllib.request.Request(f"{sender.server.url}/conversations/{self.conversation}/messages", data=body,
                                         method="POST", headers={"Content-Type": "application/json",
                                                                 "Authorization": f"Bearer {sender.token}"})
        try:
            with urllib.request.urlopen(request, timeout=self.reply_timeout) as response:
                return "ack", response.status, None, "", json.loads(response.read())
        except urllib.error.HTTPError as error:
            text = error.read()
            try:
                code = json.loads(text)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = None
            return "error", error.code, code, text[:200].decode(errors="replace"), None
        except (socket.timeout, TimeoutError) as error:
            return "timeout", None, None, repr(error), None
        except urllib.error.URLError as error:
            if isinstance(error.reason, (socket.timeout, TimeoutError)):
                return "timeout", None, None, repr(error), None
            return "unreachable", None, None, repr(error), None
        except (ConnectionError, OSError) as error:
            return "unreachable", None, None, repr(error), None

    def _closed(self, sender, error, phase):
        code = error.rcvd.code if isinstance(error, ConnectionClosed) and error.rcvd is not None else None
        with self.lock:
            self.closes.append(Close(sender.label, code, time.monotonic(), phase))
        return code

    def _connect(self, sender):
        """A WebSocket authenticated as the sender, or (None, failure result)."""
        deadline = time.monotonic() + self.reply_timeout
        try:
            socket_ = open_websocket(sender.server.ws_url, self.reply_timeout)
        except (OSError, TimeoutError) as error:
            return None, ("unreachable", None, None, f"connect: {error!r}", None)
        except Exception as error:  # the handshake refused (an InvalidStatus, ...)
            return None, ("unreachable", None, None, f"handshake: {error!r}", None)
        try:
            socket_.send(json.dumps({"type": "auth", "id": "auth", "data": {"token": sender.token}}))
            while True:
                frame = json.loads(socket_.recv(timeout=max(0.01, deadline - time.monotonic())))
                if frame["type"] == "auth.success":
                    return socket_, None
                if frame["type"] == "error" and frame.get("id") == "auth":
                    code = frame["data"].get("code")
                    socket_.close()
                    return None, ("error", "error", code, f"auth: {frame['data']}", None)
        except ConnectionClosed as error:
            code = self._closed(sender, error, "auth")
            return None, ("closed", code, None, f"closed while authenticating: {error!r}", None)
        except TimeoutError:
            socket_.close()
            return None, ("timeout", None, None, "no auth.success", None)
        except OSError as error:
            socket_.close()
            return None, ("unreachable", None, None, repr(error), None)

    def _send_ws(self, sender, socket_, client_msg_id, content):
        """One `message.send` (connecting first when there is no socket): (socket or None, result)."""
        if socket_ is None:
            socket_, failure = self._connect(sender)
            if socket_ is None:
                return None, failure
        deadline = time.monotonic() + self.reply_timeout
        try:
            socket_.send(json.dumps({"type": "message.send", "id": client_msg_id, "data": {
                "conversationId": self.conversation, "content": content, "clientMsgId": client_msg_id}}))
            while True:
                frame = json.loads(socket_.recv(timeout=max(0.01, deadline - time.monotonic())))
                if frame.get("id") != client_msg_id:
                    continue  # everyone's message.new, presence, typing...
                if frame["type"] == "message.sent":
                    return socket_, ("ack", "message.sent", None, "", frame["data"]["message"])
                if frame["type"] == "error":
                    return socket_, ("error", "error", frame["data"].get("code"), str(frame["data"]), None)
        except ConnectionClosed as error:
            code = self._closed(sender, error, "session")
            return None, ("closed", code, None, repr(error), None)
        except TimeoutError:
            socket_.close()
            return None, ("timeout", None, None, "no message.sent or error", None)
        except OSError as error:
            socket_.close()
            return None, ("unreachable", None, None, repr(error), None)


def send_under_load(server, senders, conversation, during, interval=0.1):
    """Starts `senders` on `conversation`, calls `during(load)` (the SendLoad, to wait on its
    acknowledgements and then break something), stops the senders and returns every Ack in
    acknowledgement order.

    `senders` are Sender objects, or (via, token) pairs ("rest"/"ws", a member's access
    token), which send to `server` (anything with `.url`, `.ws_url`, `.call`)."""
    resolved = [s if isinstance(s, Sender) else Sender(f"{s[0]}{index}", s[0], server, s[1])
                for index, s in enumerate(senders)]
    load = SendLoad(resolved, conversation, interval=interval).start()
    try:
        during(load)
    except BaseException:
        load.stop(strict=False)
        raise
    return load.stop()


def group_with_senders(server, count, title="Load"):
    """An owner and `count` more users signed up on `server`, all in one new group: (owner
    token, conversation id, [(user id, token)] of the `count`)."""
    owner_id, owner_token = server.sign_up("Owner")
    members = [server.sign_up(f"Sender{index}") for index in range(count)]
    status, group = server.call("POST", "/conversations", {
        "kind": "group", "title": title, "memberIds": [user_id for user_id, _ in members]}, owner_token)
    assert status == 201, group
    return owner_token, group["id"], members


def history(server, token, conversation):
    """The whole history of `conversation`, oldest first, read as a client does: the newest
    page, then `before=<oldest id>` pages until `hasMore` is false."""
    pages, before = [], None
    while True:
        query = "?limit=100" + (f"&before={before}" if before else "")
        status, page = server.call("GET", f"/conversations/{conversation}/messages{query}", token=token)
        assert status == 200, (status, page)
        pages.insert(0, page["messages"])
        if not page["hasMore"]:
            break
        assert page["messages"], "hasMore with an empty page"
        before = page["messages"][0]["id"]
    messages = [message for page in pages for message in page]
    ids = [message["id"] for message in messages]
    assert len(set(ids)) == len(ids), "a message appears on two pages"
    return messages


def verify_history(server, token, conversation, acked, resend_workers=4):
    """Asserts, reading `conversation` on `server` as `token` (a member):

    - every Ack in `acked` is in the history exactly once, under its acknowledged id, with its
      sender, clientMsgId and content;
    - no (sender, clientMsgId) is stored twice, acknowledged or not (a retried send whose first
      try committed must not have added a row);
    - each sender's acknowledged messages stand in the history in the order they were
      acknowledged;
    - resending every acknowledged clientMsgId over REST (as its sender) answers 200 with the
      same message id, and afterwards the history holds exactly the same messages.

    Returns the number of acknowledged messages checked."""
    assert acked, "nothing was acknowledged: the check would prove nothing"
    before = history(server, token, conversation)
    position = {message["id"]: index for index, message in enumerate(before)}
    stored = {}
    for message in before:
        if message["clientMsgId"] is not None:
            key = (message["sender"]["id"], message["clientMsgId"])
            assert key not in stored, f"clientMsgId {key[1]} of {key[0]} stored twice: {stored[key]['id']} and {message['id']}"
            stored[key] = message
    acked_ids = [ack.message_id for ack in acked]
    assert len(set(acked_ids)) == len(acked_ids), "two acknowledged sends were answered with the same message id"
    missing = [ack for ack in acked if ack.message_id not in position]
    assert not missing, (f"{len(missing)} of {len(acked)} acknowledged messages are not in the history, e.g. "
                         + ", ".join(f"{a.client_msg_id} (id {a.message_id}, {a.via} via {a.server}, {a.status})" for a in missing[:5]))
    by_sender = {}
    for ack in acked:
        message = before[position[ack.message_id]]
        assert (message["sender"]["id"], message["clientMsgId"], message["content"]) == (ack.user_id, ack.client_msg_id, ack.content), \
            (ack, message)
        assert stored[(ack.user_id, ack.client_msg_id)]["id"] == ack.message_id, (ack, stored[(ack.user_id, ack.client_msg_id)])
        by_sender.setdefault(ack.sender, []).append(position[ack.message_id])
    for sender, positions in by_sender.items():
        assert positions == sorted(positions), f"{sender}'s acknowledged messages are out of order in the history"

    def resend(ack):
        status, body = server.call("POST", f"/conversations/{conversation}/messages",
                                   {"content": ack.content, "clientMsgId": ack.client_msg_id}, ack.token)
        return ack, status, body

    with concurrent.futures.ThreadPoolExecutor(resend_workers) as pool:
        for ack, status, body in pool.map(resend, acked):
            assert status == 200 and body["id"] == ack.message_id, \
                f"resending {ack.client_msg_id} (acknowledged as {ack.message_id}) answered {status} {body}"
    after = history(server, token, conversation)
    assert [m["id"] for m in after] == [m["id"] for m in before], \
        f"resending acknowledged messages changed the history: {len(before)} messages before, {len(after)} after"
    return len(acked)


def sigkill_under_load_keeps_acknowledged(start):
    """The SIGKILL scenario of the durability tests, for any database: `start(name)` starts a
    Server on the same data and database each time it is called ("first", then "restarted").
    Three REST and three WebSocket senders send into one group; once each has 3 acknowledgements
    and after 2 s of load the first process is killed with SIGKILL (its PID is Parley's); the
    restarted server must hold every acknowledged message once, in order, and answer resends of
    them with the same message (`verify_history`)."""
    first, second = start("first"), None
    try:
        owner_token, conversation, members = group_with_senders(first, 6, "Kill")
        senders = [Sender(f"{via}{index}", via, first, token, user_id)
                   for index, (via, (user_id, token)) in enumerate(zip(["rest"] * 3 + ["ws"] * 3, members))]
        marks = {}

        def kill_under_load(load):
            load.wait_until_each_acked(3, timeout=60)
            started = time.monotonic()
            load.wait_until(lambda: time.monotonic() - started >= 2, 5, "2 s of load")
            marks["killed"] = time.monotonic()
            first.process.kill()
            first.process.wait(10)

        acked = send_under_load(first, senders, conversation, kill_under_load)
        assert first.process.returncode == -9, first.process.returncode
        # Killed under load: messages were being acknowledged right up to the kill.
        assert [a for a in acked if marks["killed"] - 0.5 <= a.acked_at <= marks["killed"]], "no sends in the last 0.5 s"
        assert {a.sender for a in acked} == {s.label for s in senders}

        second = start("restarted")
        assert verify_history(second, owner_token, conversation, acked) == len(acked) >= 18
    finally:
        first.stop()
        if second is not None:
            second.stop()
