"""File attachments end to end (issue 15), against the installed binary, with the bytes kept on
the server's disk (`DATA_DIR/files`, the default) and in a real S3 store that checks SigV4
(SeaweedFS, s3_server.py).

Two people in a DM (and a stranger) announce, upload, send with WebSocket `message.send` and
REST, receive, download and delete files; hostile uploads are refused (a body of another size,
a tampered URL, over the size, quota and pending limits, bad names and types, ids that are not
the sender's complete uploads to that conversation, eleven ids); HTML and SVG come back as
downloads with nosniff and a sandbox CSP while a PNG shows inline; a member removed from a group
loses its files; `/metrics` counts uploads; and 100 MB go up and down through a server whose
resident memory stays flat (it streams, it does not buffer).

Every server is stopped by its PID.
"""
import asyncio
import hashlib
import http.client
import os
import re
import shutil
import struct
import threading
import time
import urllib.parse
import uuid
import zlib

import pytest
import requests

import s3_server
from parley_server import ARTIFACTS, Server
from ws_client import Client

LOCAL_PORT, S3_PARLEY_PORT, STREAM_PORT, RATE_PORT = 18620, 18621, 18622, 18623
S3_PORT = 18630
BUCKET = "parley-attachments"
QUOTA = 1_000_000
MAX_PENDING = 16
MiB = 1024 * 1024
DEFAULT_MAX_BYTES = 25 * MiB
COMMON_ENV = {"REGISTRATION": "open", "BCRYPT_COST": "4", "RTC_PUBLIC_IP": "127.0.0.1", "RATE_MESSAGES": "off"}


# MARK: servers

def start_parley(name, port, env):
    """A Parley server with an empty data folder of its own."""
    shutil.rmtree(os.path.join(ARTIFACTS, f"{name}-data"), ignore_errors=True)
    return Server(name, port, {**COMMON_ENV, **env})


@pytest.fixture(scope="module")
def s3store(tmp_path_factory):
    # Started from the main thread (fixtures run there): the store is SIGTERMed when its starter exits.
    store = s3_server.start(S3_PORT, str(tmp_path_factory.mktemp("attach-s3")), BUCKET, name="attachments")
    yield store
    store.stop()


class Chat:
    """A running Parley and where it keeps attachment bytes."""

    def __init__(self, kind, server, s3=None):
        self.kind, self.server, self.s3 = kind, server, s3
        self.files = os.path.join(ARTIFACTS, f"{server.name}-data", "files")
        self.s3_client = s3.client() if s3 else None

    def stored(self, attachment_id):
        """Whether the storage holds anything (complete or partial) for the attachment."""
        if self.kind == "local":
            return any(os.path.exists(os.path.join(self.files, attachment_id + suffix)) for suffix in ("", ".part"))
        from botocore.exceptions import ClientError
        try:
            self.s3_client.head_object(Bucket=BUCKET, Key=f"attachments/{attachment_id}")
            return True
        except ClientError as error:
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404, error.response
            return False


@pytest.fixture(scope="module")
def local_chat():
    server = start_parley("attach-local", LOCAL_PORT, {
        "RATE_UPLOADS": "off", "ATTACHMENT_QUOTA_BYTES": str(QUOTA), "ATTACHMENT_MAX_PENDING": str(MAX_PENDING)})
    yield Chat("local", server)
    server.stop()


@pytest.fixture(scope="module")
def s3_chat(s3store):
    server = start_parley("attach-s3", S3_PARLEY_PORT, {
        "RATE_UPLOADS": "off", "ATTACHMENT_QUOTA_BYTES": str(QUOTA), "ATTACHMENT_MAX_PENDING": str(MAX_PENDING),
        "STORAGE_URL": f"s3://{BUCKET}?endpoint={s3store.endpoint}&region={s3store.region}",
        "S3_ACCESS_KEY_ID": s3store.access_key, "S3_SECRET_ACCESS_KEY": s3store.secret_key})
    yield Chat("s3", server, s3store)
    server.stop()


@pytest.fixture(params=["local", "s3"])
def chat(request):
    return request.getfixturevalue(f"{request.param}_chat")


# MARK: people and files

class Person:
    def __init__(self, chat, name):
        self.chat, self.server = chat, chat.server
        self.name = f"{name}{uuid.uuid4().hex[:5]}"
        self.id, self.token = self.server.sign_up(self.name)

    def call(self, method, path, body=None):
        """(status, body) of a REST call as this person."""
        return self.server.call(method, path, body, token=self.token)

    def ok(self, method, path, body=None):
        status, answer = self.call(method, path, body)
        assert status < 300, (method, path, body, status, answer)
        return answer

    def dm(self, other):
        return self.ok("POST", "/conversations", {"kind": "dm", "userId": other.id})["id"]

    def group(self, title, *others):
        return self.ok("POST", "/conversations", {"kind": "group", "title": title, "memberIds": [o.id for o in others]})["id"]

    def announce(self, conversation, name, size, content_type="application/octet-stream", **extra):
        return self.call("POST", f"/conversations/{conversation}/attachments",
                         {"name": name, "size": size, "contentType": content_type, **extra})

    def announced(self, conversation, name, size, content_type="application/octet-stream", **extra):
        status, answer = self.announce(conversation, name, size, content_type, **extra)
        assert status == 201, (name, size, content_type, status, answer)
        return answer

    def upload(self, conversation, data, name="file.bin", content_type="application/octet-stream", **extra):
        """Announces and uploads `data`; returns the attachment as the announcement described it."""
        answer = self.announced(conversation, name, len(data), content_type, **extra)
        put = put_upload(answer["upload"], data)
        assert put.status_code in (200, 204), (put.status_code, put.text)
        return answer["attachment"]

    def send(self, conversation, content="", attachment_ids=()):
        return self.call("POST", f"/conversations/{conversation}/messages",
                         {"content": content, "attachmentIds": list(attachment_ids)})

    def sent(self, conversation, content="", attachment_ids=()):
        status, message = self.send(conversation, content, attachment_ids)
        assert status == 201, (status, message)
        return message

    def download(self, attachment_id):
        """Parley's answer to GET /attachments/{id} and, when it redirects to the store, the store's
        answer to the redirect (fetched without Parley's token, as a browser follows it)."""
        first = requests.get(f"{self.server.url}/attachments/{attachment_id}", allow_redirects=False, timeout=30,
                             headers={"Authorization": f"Bearer {self.token}"})
        if first.status_code != 302:
            return first, first
        assert self.chat.kind == "s3", "only S3 storage redirects"
        location = first.headers["Location"]
        assert location.startswith(f"{self.chat.s3.endpoint}/{BUCKET}/attachments/{attachment_id}?"), location
        assert first.headers.get("Cache-Control") == "no-store"
        return first, requests.get(location, timeout=30)

    def fetched(self, attachment_id):
        """The store's or Parley's 200 answer with the bytes."""
        _, final = self.download(attachment_id)
        assert final.status_code == 200, (final.status_code, final.text[:300])
        return final


def put_upload(upload, data, url=None, headers=None):
    """The client's PUT of the bytes to where the announcement said, with its headers and no token."""
    assert upload["method"] == "PUT"
    return requests.put(url or upload["url"], data=data, headers=headers if headers is not None else upload["headers"], timeout=30)


def error_of(body):
    return (body or {}).get("error") or {}


def assert_error(status, body, expected_status, code, field=None):
    assert status == expected_status, (status, body)
    error = error_of(body)
    assert error.get("code") == code, body
    if field is not None:
        assert error.get("field") == field, body


def tiny_png(width=3, height=2):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def metrics(server):
    """`/metrics` (open to loopback) as {name: value} for unlabelled samples."""
    response = requests.get(f"{server.url}/metrics", timeout=10)
    assert response.status_code == 200, response.status_code
    values = {}
    for line in response.text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)", line)
        if match and not line.startswith("#"):
            values[match.group(1)] = values.get(match.group(1), 0.0) + float(match.group(2))
    return values, response.text


# MARK: 1. round trip

def test_round_trip(chat):
    asyncio.run(_round_trip(chat))


async def _round_trip(chat):
    ada, bob, cy = Person(chat, "Ada"), Person(chat, "Bob"), Person(chat, "Cy")
    dm = ada.dm(bob)
    a = await Client.connect(chat.server.ws_url, ada.token)
    b = await Client.connect(chat.server.ws_url, bob.token)
    try:
        data = os.urandom(50_000)
        answer = ada.announced(dm, "notes.bin", len(data), "application/octet-stream")
        attachment, upload = answer["attachment"], answer["upload"]
        assert attachment["name"] == "notes.bin" and attachment["size"] == len(data)
        assert attachment["contentType"] == "application/octet-stream"
        assert attachment["width"] is None and attachment["height"] is None
        assert attachment["url"] == f"/attachments/{attachment['id']}"
        assert upload["method"] == "PUT" and upload["headers"] == {"Content-Type": "application/octet-stream"}
        if chat.kind == "local":
            assert upload["url"].startswith(f"{chat.server.url}/attachments/{attachment['id']}/content?"), upload
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(upload["url"]).query)
            assert set(query) == {"expires", "signature"}, upload
        else:
            assert upload["url"].startswith(f"{chat.s3.endpoint}/{BUCKET}/attachments/{attachment['id']}?"), upload
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(upload["url"]).query)
            assert set(query["X-Amz-SignedHeaders"][0].split(";")) >= {"content-length", "content-type", "host"}, upload
        assert not chat.stored(attachment["id"])

        put = put_upload(upload, data)
        assert put.status_code == (204 if chat.kind == "local" else 200), (put.status_code, put.text)
        assert chat.stored(attachment["id"])
        if chat.kind == "local":
            with open(os.path.join(chat.files, attachment["id"]), "rb") as f:
                assert f.read() == data

        # Not sent yet: nobody else reaches it, not even the other member.
        assert bob.download(attachment["id"])[0].status_code == 404
        assert cy.download(attachment["id"])[0].status_code == 404
        if chat.kind == "local":
            # The uploader may fetch a complete upload of theirs before sending it. (With S3,
            # Parley learns an upload is complete only when a message refers to it: 404 until then.)
            assert ada.fetched(attachment["id"]).content == data

        # Sent over the WebSocket with no text: both sockets get the message with the file.
        await a.send("message.send", {"conversationId": dm, "content": "", "clientMsgId": "att-1",
                                      "attachmentIds": [attachment["id"]]}, id="s1")
        sent = await a.next("message.sent", where=lambda f: f.get("id") == "s1")
        message = sent["data"]["message"]
        assert message["content"] == "" and message["attachments"] == [attachment], message
        new = await b.next("message.new", where=lambda f: f["data"]["message"]["id"] == message["id"])
        assert new["data"]["message"]["attachments"] == [attachment], new

        # Bob downloads the bytes (S3: a redirect to the store, which answers with Parley's headers).
        first, final = bob.download(attachment["id"])
        assert final.status_code == 200 and final.content == data
        assert final.headers["Content-Type"] == "application/octet-stream"
        assert final.headers["Content-Disposition"] == \
            "attachment; filename=\"notes.bin\"; filename*=UTF-8''notes.bin", final.headers
        if chat.kind == "local":
            assert first.status_code == 200
            assert first.headers["X-Content-Type-Options"] == "nosniff"
            assert first.headers["Content-Security-Policy"].startswith("sandbox")
        else:
            assert first.status_code == 302
            location = urllib.parse.parse_qs(urllib.parse.urlsplit(first.headers["Location"]).query)
            assert location["response-content-type"] == ["application/octet-stream"], location
            assert location["response-content-disposition"][0].startswith("attachment; "), location
        assert ada.fetched(attachment["id"]).content == data

        # The stranger: no download, no announcement in a conversation they are not in.
        assert cy.download(attachment["id"])[0].status_code == 404
        status, body = cy.announce(dm, "x.txt", 3, "text/plain")
        assert_error(status, body, 404, "not_found")
        # No token at all: not a download either.
        anonymous = requests.get(f"{chat.server.url}/attachments/{attachment['id']}", allow_redirects=False, timeout=10)
        assert anonymous.status_code in (401, 404), anonymous.status_code

        # History and the conversation list show it; a message without files has [].
        history = bob.ok("GET", f"/conversations/{dm}/messages?limit=50")["messages"]
        assert [m["attachments"] for m in history if m["id"] == message["id"]] == [[attachment]], history
        listed = {c["id"]: c for c in bob.ok("GET", "/conversations")["conversations"]}
        assert listed[dm]["lastMessage"]["id"] == message["id"]
        assert listed[dm]["lastMessage"]["attachments"] == [attachment], listed[dm]

        # REST works too, with text and two files (one an image with its size) in the given order.
        png = tiny_png()
        picture = ada.upload(dm, png, "dot.png", "image/png", width=3, height=2)
        assert picture["width"] == 3 and picture["height"] == 2
        other = ada.upload(dm, b"hello\n", "hello.txt", "text/plain")
        posted = ada.sent(dm, "two files", [other["id"], picture["id"]])
        assert posted["attachments"] == [other, picture], posted
        new = await b.next("message.new", where=lambda f: f["data"]["message"]["id"] == posted["id"])
        assert new["data"]["message"]["attachments"] == [other, picture]
        assert bob.fetched(picture["id"]).content == png
        assert bob.fetched(other["id"]).content == b"hello\n"

        plain = bob.sent(dm, "no files")
        assert plain["attachments"] == []
        new = await a.next("message.new", where=lambda f: f["data"]["message"]["id"] == plain["id"])
        assert new["data"]["message"]["attachments"] == []
        listed = {c["id"]: c for c in ada.ok("GET", "/conversations")["conversations"]}
        assert listed[dm]["lastMessage"]["attachments"] == []

        # An id sent once cannot be sent again.
        status, body = ada.send(dm, "again", [attachment["id"]])
        assert_error(status, body, 422, "invalid_field", "attachmentIds")
    finally:
        await a.close()
        await b.close()


# MARK: 2. deletion

def test_deleting_a_message_deletes_its_files(chat):
    asyncio.run(_deletion(chat))


async def _deletion(chat):
    ada, bob = Person(chat, "Ada"), Person(chat, "Bob")
    dm = ada.dm(bob)
    removed_before = metrics(chat.server)[0].get("parley_attachments_removed_total", 0)

    # Over REST: two files go with their message.
    first = ada.upload(dm, os.urandom(1000), "one.bin")
    second = ada.upload(dm, os.urandom(2000), "two.bin")
    message = ada.sent(dm, "", [first["id"], second["id"]])
    assert bob.fetched(first["id"]).status_code == 200 and chat.stored(first["id"]) and chat.stored(second["id"])
    status, _ = ada.call("DELETE", f"/conversations/{dm}/messages/{message['id']}")
    assert status == 204
    for attachment in (first, second):
        assert bob.download(attachment["id"])[0].status_code == 404
        assert ada.download(attachment["id"])[0].status_code == 404
        assert not chat.stored(attachment["id"]), f"{attachment['id']} still stored after its message was deleted"
    if chat.kind == "local":
        assert not [name for name in os.listdir(chat.files) if name.startswith((first["id"], second["id"]))]

    # Over the WebSocket.
    third = ada.upload(dm, os.urandom(3000), "three.bin")
    a = await Client.connect(chat.server.ws_url, ada.token)
    try:
        await a.send("message.send", {"conversationId": dm, "content": "", "attachmentIds": [third["id"]]}, id="s")
        sent = (await a.next("message.sent", where=lambda f: f.get("id") == "s"))["data"]["message"]
        assert bob.fetched(third["id"]).status_code == 200
        # Only its author (or a group's owner/admin) deletes it.
        status, body = bob.call("DELETE", f"/conversations/{dm}/messages/{sent['id']}")
        assert status in (403, 404), (status, body)
        assert bob.fetched(third["id"]).status_code == 200
        await a.send("message.delete", {"conversationId": dm, "messageId": sent["id"]}, id="d")
        await a.next("message.deleted", where=lambda f: f.get("id") == "d")
    finally:
        await a.close()
    assert bob.download(third["id"])[0].status_code == 404
    assert not chat.stored(third["id"])

    removed_after = metrics(chat.server)[0].get("parley_attachments_removed_total", 0)
    assert removed_after >= removed_before + 3, (removed_before, removed_after)


# MARK: 3. hostile inputs

def test_local_upload_of_another_size_is_refused(local_chat):
    chat = local_chat
    ada, bob = Person(chat, "Ada"), Person(chat, "Bob")
    dm = ada.dm(bob)
    data = os.urandom(10_000)
    answer = ada.announced(dm, "exact.bin", len(data))
    attachment_id, upload = answer["attachment"]["id"], answer["upload"]

    def nothing_stored():
        return not chat.stored(attachment_id)

    for wrong in (data[:-1], data + b"!", b""):
        put = put_upload(upload, wrong)
        assert put.status_code == 400, (len(wrong), put.status_code, put.text)
        assert put.json()["error"]["code"] == "size_mismatch", put.text
        assert nothing_stored()

    # Without Content-Length (chunked), more or fewer bytes than announced are refused too.
    def chunked(body, pieces=4):
        step = max(1, len(body) // pieces)
        return (body[i:i + step] for i in range(0, len(body), step))
    put = put_upload(upload, chunked(data[:5000]))
    assert put.status_code == 400, (put.status_code, put.text)
    assert put.json()["error"]["code"] == "size_mismatch", put.text
    assert nothing_stored()

    # Not complete: cannot be sent.
    status, body = ada.send(dm, "", [attachment_id])
    assert_error(status, body, 422, "invalid_field", "attachmentIds")

    # The same URL, with the right body, then works once.
    put = put_upload(upload, chunked(data))
    assert put.status_code == 204, (put.status_code, put.text)
    with open(os.path.join(chat.files, attachment_id), "rb") as f:
        assert f.read() == data
    again = put_upload(upload, data)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_uploaded", (again.status_code, again.text)
    with open(os.path.join(chat.files, attachment_id), "rb") as f:
        assert f.read() == data
    assert [name for name in os.listdir(chat.files) if name.startswith(attachment_id)] == [attachment_id]

    # Chunked with more bytes than announced: the upload is stopped and refused as a size
    # mismatch (a client error), nothing kept.
    longer = ada.announced(dm, "longer.bin", len(data))
    put = put_upload(longer["upload"], chunked(data + os.urandom(5000)))
    assert not chat.stored(longer["attachment"]["id"])
    assert put.status_code == 400, (put.status_code, put.text)
    assert put.json()["error"]["code"] == "size_mismatch", put.text
    assert put_upload(longer["upload"], data).status_code == 204


def test_one_upload_at_a_time_per_file(local_chat):
    """A valid upload URL opens one upload at a time: while one connection is sending the bytes,
    a second for the same file is refused (409 upload_in_progress) rather than given a socket and
    a file of its own; once the first ends, the file is whole and the URL is spent."""
    chat = local_chat
    ada, bob = Person(chat, "Ada"), Person(chat, "Bob")
    dm = ada.dm(bob)
    data = os.urandom(200_000)
    answer = ada.announced(dm, "slow.bin", len(data))
    attachment_id, upload = answer["attachment"]["id"], answer["upload"]
    parts = urllib.parse.urlsplit(upload["url"])
    first = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    first.putrequest("PUT", parts.path + "?" + parts.query)
    for name, value in {**upload["headers"], "Content-Length": str(len(data))}.items():
        first.putheader(name, value)
    first.endheaders()
    first.send(data[:1000])
    time.sleep(0.5)  # the first request reaches the route with its headers, its body still coming
    second = put_upload(upload, data)
    assert second.status_code == 409 and second.json()["error"]["code"] == "upload_in_progress", second.text
    first.send(data[1000:])
    assert first.getresponse().status == 204
    first.close()
    assert chat.stored(attachment_id)
    again = put_upload(upload, data)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_uploaded", again.text


def test_tampered_local_upload_url_is_refused(local_chat):
    chat = local_chat
    ada, bob = Person(chat, "Ada"), Person(chat, "Bob")
    dm = ada.dm(bob)
    data = b"x" * 100
    first, second = ada.announced(dm, "a.bin", len(data)), ada.announced(dm, "b.bin", len(data))
    url = first["upload"]["url"]
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))

    def with_query(path=parts.path, **changes):
        return urllib.parse.urlunsplit(parts._replace(path=path, query=urllib.parse.urlencode({**query, **changes})))

    signature = query["signature"]
    flipped = signature[:5] + ("0" if signature[5] != "0" else "1") + signature[6:]
    other_id = second["attachment"]["id"]
    tampered = {
        "signature changed": with_query(signature=flipped),
        "expiry moved": with_query(expires=str(int(query["expires"]) + 3600)),
        "expired": with_query(expires=str(int(time.time()) - 10)),
        "no signature": urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode({"expires": query["expires"]}))),
        "another file's id": with_query(path=parts.path.replace(first["attachment"]["id"], other_id)),
    }
    for what, bad in tampered.items():
        put = put_upload(first["upload"], data, url=bad)
        assert put.status_code == 403, (what, bad, put.status_code, put.text)
    # An id that is a path is no file of Parley's, whatever the signature.
    for path in ("/attachments/..%2F..%2Fpasswd/content", "/attachments/%2E%2E/content"):
        put = put_upload(first["upload"], data, url=with_query(path=path))
        assert put.status_code in (403, 404), (path, put.status_code, put.text)
    data_dir = os.path.dirname(chat.files)
    assert not os.path.exists(os.path.join(data_dir, "passwd")) and not os.path.exists(os.path.join(chat.files, "..", "..", "passwd"))
    assert not chat.stored(first["attachment"]["id"]) and not chat.stored(other_id)
    # Parley's own token does not stand in for the URL's signature.
    put = put_upload(first["upload"], data, url=with_query(signature=flipped),
                     headers={**first["upload"]["headers"], "Authorization": f"Bearer {ada.token}"})
    assert put.status_code == 403, (put.status_code, put.text)
    assert put_upload(first["upload"], data).status_code == 204


def test_s3_upload_of_another_size_is_refused(s3_chat):
    chat = s3_chat
    ada, bob = Person(chat, "Ada"), Person(chat, "Bob")
    dm = ada.dm(bob)
    data = os.urandom(10_000)
    answer = ada.announced(dm, "exact.bin", len(data))
    attachment_id, upload = answer["attachment"]["id"], answer["upload"]

    # The presigned PUT is signed over the length and type: the store refuses anything else.
    for wrong in (data[:-1], data + b"!"):
        put = put_upload(upload, wrong)
        assert put.status_code == 403, (len(wrong), put.status_code, put.text)
    put = put_upload(upload, data, headers={"Content-Type": "text/html"})
    assert put.status_code == 403, (put.status_code, put.text)
    assert not chat.stored(attachment_id)

    # Announced, never uploaded: the send is refused as not complete.
    status, body = ada.send(dm, "", [attachment_id])
    assert_error(status, body, 422, "invalid_field", "attachmentIds")
    assert "not complete" in error_of(body).get("message", ""), body

    # An object of another size put under its key by other means: refused, and deleted.
    chat.s3_client.put_object(Bucket=BUCKET, Key=f"attachments/{attachment_id}", Body=data[:4000])
    assert chat.stored(attachment_id)
    status, body = ada.send(dm, "", [attachment_id])
    assert_error(status, body, 422, "invalid_field", "attachmentIds")
    assert not chat.stored(attachment_id), "the object of the wrong size was not deleted"
    status, body = ada.send(dm, "", [attachment_id])
    assert_error(status, body, 422, "invalid_field", "attachmentIds")

    # A right-sized upload of a fresh announcement still goes through.
    good = ada.upload(dm, data, "good.bin")
    message = ada.sent(dm, "", [good["id"]])
    assert message["attachments"] == [good]
    assert bob.fetched(good["id"]).content == data


def test_size_quota_and_pending_limits(chat):
    ada, bob = Person(chat, "Ada"), Person(chat, "Bob")
    dm = ada.dm(bob)

    status, body = ada.announce(dm, "huge.bin", DEFAULT_MAX_BYTES + 1)
    assert_error(status, body, 413, "payload_too_large")
    status, body = ada.announce(dm, "negative.bin", -1)
    assert_error(status, body, 422, "invalid_field", "size")

    # The quota counts what was announced and what was uploaded.
    big = os.urandom(600_000)
    sent_big = ada.upload(dm, big, "big.bin")
    status, body = ada.announce(dm, "more.bin", QUOTA - 600_000 + 1)
    assert_error(status, body, 409, "limit_reached")
    announced = ada.announced(dm, "fits.bin", QUOTA - 600_000)  # exactly up to the quota
    status, body = ada.announce(dm, "one-more.bin", 1)
    assert_error(status, body, 409, "limit_reached")
    # Bob has his own quota.
    bob.announced(dm, "bob.bin", 500_000)

    # What a deleted message carried no longer counts.
    message = ada.sent(dm, "", [sent_big["id"]])
    assert ada.call("DELETE", f"/conversations/{dm}/messages/{message['id']}")[0] == 204
    ada.announced(dm, "after-delete.bin", 500_000)
    assert announced  # (kept, still counting)

    # At most MAX_PENDING uploads no message refers to yet (Cy starts from nothing).
    cy = Person(chat, "Cy")
    group = cy.group("Pending", ada)
    for index in range(MAX_PENDING):
        cy.announced(group, f"p{index}.bin", 10)
    status, body = cy.announce(group, "one-too-many.bin", 10)
    assert_error(status, body, 409, "limit_reached")


def test_downloads_are_served_safely(chat):
    ada, bob = Person(chat, "Ada"), Person(chat, "Bob")
    dm = ada.dm(bob)
    html = b"<!doctype html><script>alert(document.cookie)</script>"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    png = tiny_png()
    page = ada.upload(dm, html, "page.html", "text/html; charset=utf-8")
    drawing = ada.upload(dm, svg, "drawing.svg", "image/svg+xml")
    picture = ada.upload(dm, png, "pic.png", "image/png", width=3, height=2)
    assert page["contentType"] == "text/html"  # parameters dropped
    ada.sent(dm, "", [page["id"], drawing["id"], picture["id"]])

    for attachment, data, name in ((page, html, "page.html"), (drawing, svg, "drawing.svg")):
        first, final = bob.download(attachment["id"])
        assert final.status_code == 200 and final.content == data
        assert final.headers["Content-Type"] == "application/octet-stream", (name, final.headers)
        assert final.headers["Content-Disposition"] == f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}", final.headers
        if chat.kind == "local":
            assert first.headers["X-Content-Type-Options"] == "nosniff", first.headers
            csp = first.headers["Content-Security-Policy"]
            assert csp.split(";")[0].strip() == "sandbox" and "default-src 'none'" in csp, csp
    first, final = bob.download(picture["id"])
    assert final.status_code == 200 and final.content == png
    assert final.headers["Content-Type"] == "image/png", final.headers
    assert final.headers["Content-Disposition"].startswith("inline; filename=\"pic.png\""), final.headers
    if chat.kind == "local":
        assert first.headers["X-Content-Type-Options"] == "nosniff"
        assert first.headers["Content-Security-Policy"].startswith("sandbox")


def test_names_and_types(chat):
    ada, bob = Person(chat, "Ada"), Person(chat, "Bob")
    dm = ada.dm(bob)
    cases = {
        "../../etc/passwd": ("passwd", "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"),
        "C:\\x\\r.pdf": ("r.pdf", "attachment; filename=\"r.pdf\"; filename*=UTF-8''r.pdf"),
        "/abs/dir/ok.txt": ("ok.txt", "attachment; filename=\"ok.txt\"; filename*=UTF-8''ok.txt"),
        "résumé \"v2\".pdf": ("résumé \"v2\".pdf",
                              "attachment; filename=\"r_sum_ _v2_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.pdf"),
    }
    ids = []
    for raw, (kept, disposition) in cases.items():
        attachment = ada.upload(dm, b"data", raw, "application/pdf")
        assert attachment["name"] == kept, (raw, attachment)
        ids.append((attachment["id"], disposition))
    ada.sent(dm, "", [i for i, _ in ids])
    for attachment_id, disposition in ids:
        final = bob.fetched(attachment_id)
        assert final.headers["Content-Disposition"] == disposition, final.headers
    assert not any(".." in name or "/" in name for name in (os.listdir(chat.files) if chat.kind == "local" else []))

    for bad in ("bell\x07.txt", "new\nline.txt", "invoice\u202efdp.exe", "iso\u2066late.txt", "", "..", "a/..", "  ", "a" * 256):
        status, body = ada.announce(dm, bad, 4, "text/plain")
        assert_error(status, body, 422, "invalid_field", "name")
    for bad in ("text", "text/html/x", "te xt/plain", "image/p\u00e9ng", "/png"):
        status, body = ada.announce(dm, "f.bin", 4, bad)
        assert_error(status, body, 422, "invalid_field", "contentType")
    assert ada.announced(dm, "f.bin", 4, "")["attachment"]["contentType"] == "application/octet-stream"
    assert ada.announced(dm, "f.png", 4, "IMAGE/PNG")["attachment"]["contentType"] == "image/png"
    for field, value in (("width", 0), ("height", 100_001)):
        status, body = ada.announce(dm, "f.png", 4, "image/png", **{field: value})
        assert_error(status, body, 422, "invalid_field", field)


def test_attachment_ids_that_are_not_yours_to_send(chat):
    asyncio.run(_not_yours(chat))


async def _not_yours(chat):
    ada, bob, cy = Person(chat, "Ada"), Person(chat, "Bob"), Person(chat, "Cy")
    dm = ada.dm(bob)
    elsewhere = ada.dm(cy)

    def refused(person, conversation, ids, content=""):
        status, body = person.send(conversation, content, ids)
        assert_error(status, body, 422, "invalid_field", "attachmentIds")

    adas = ada.upload(dm, b"ada's", "ada.txt", "text/plain")
    refused(bob, dm, [adas["id"]])                      # someone else's complete upload
    other = ada.upload(elsewhere, b"for cy", "cy.txt", "text/plain")
    refused(ada, dm, [other["id"]])                     # an upload to another conversation
    pending = ada.announced(dm, "pending.txt", 5, "text/plain")["attachment"]
    refused(ada, dm, [pending["id"]])                   # announced, not uploaded
    refused(ada, dm, ["att_doesnotexist"])              # no such upload
    refused(ada, dm, [adas["id"], adas["id"]])          # the same id twice
    refused(ada, dm, ["../../etc/passwd"])              # not an id at all
    refused(ada, dm, [adas["id"], other["id"]])         # one good, one not: nothing is sent
    # Nothing of the above was linked: the good one still goes, once.
    history = ada.ok("GET", f"/conversations/{dm}/messages?limit=50")["messages"]
    assert history == [], history
    status, body = ada.send(dm, "", [])                 # no files and no text is not a message
    assert status == 422, (status, body)
    message = ada.sent(dm, "", [adas["id"]])
    assert [a["id"] for a in message["attachments"]] == [adas["id"]]
    refused(ada, elsewhere, [adas["id"]])               # sent already (and to another conversation)
    # Cy, not in the DM, cannot fetch the other conversation's file by guessing: 404.
    assert cy.download(adas["id"])[0].status_code == 404
    # Cy *is* in `elsewhere`, but the upload there is unsent and Ada's: 404 as well.
    assert cy.download(other["id"])[0].status_code == 404

    # Eleven ids is one too many; ten go.
    ids = [ada.upload(dm, f"n{index}".encode(), f"n{index}.txt", "text/plain")["id"] for index in range(11)]
    refused(ada, dm, ids)
    message = ada.sent(dm, "ten", ids[:10])
    assert [a["id"] for a in message["attachments"]] == ids[:10]

    # Over the WebSocket the refusal is an error frame naming the field.
    a = await Client.connect(chat.server.ws_url, ada.token)
    try:
        await a.send("message.send", {"conversationId": dm, "content": "", "attachmentIds": [adas["id"]]}, id="w1")
        error = await a.next("error", where=lambda f: f.get("id") == "w1")
        assert error["data"]["code"] == "invalid_field" and error["data"].get("field") == "attachmentIds", error
        await a.send("message.send", {"conversationId": dm, "content": "", "attachmentIds": [ids[10]]}, id="w2")
        sent = await a.next("message.sent", where=lambda f: f.get("id") == "w2")
        assert [x["id"] for x in sent["data"]["message"]["attachments"]] == [ids[10]]
    finally:
        await a.close()


# MARK: 4. removed member

def test_removed_member_loses_the_files(chat):
    owner, bob, cy = Person(chat, "Owner"), Person(chat, "Bob"), Person(chat, "Cy")
    group = owner.group("Files", bob, cy)
    data = os.urandom(20_000)
    attachment = owner.upload(group, data, "plan.bin")
    owner.sent(group, "the plan", [attachment["id"]])
    bobs = bob.upload(group, b"bob's file", "bob.txt", "text/plain")
    bob_message = bob.sent(group, "", [bobs["id"]])
    for person in (bob, cy):
        assert person.fetched(attachment["id"]).content == data

    assert owner.call("DELETE", f"/conversations/{group}/members/{bob.id}")[0] == 204
    assert bob.download(attachment["id"])[0].status_code == 404
    assert bob.download(bobs["id"])[0].status_code == 404  # even his own, once sent there
    assert cy.fetched(attachment["id"]).content == data
    status, body = bob.announce(group, "x.bin", 1)
    assert_error(status, body, 404, "not_found")

    # The owner deletes someone else's message: its file goes.
    assert cy.fetched(bobs["id"]).content == b"bob's file"
    assert owner.call("DELETE", f"/conversations/{group}/messages/{bob_message['id']}")[0] == 204
    assert cy.download(bobs["id"])[0].status_code == 404
    assert not chat.stored(bobs["id"])
    assert chat.stored(attachment["id"])


def test_upload_rate_limit():
    server = start_parley("attach-rate", RATE_PORT, {"RATE_UPLOADS": "3/1m"})
    try:
        chat = Chat("local", server)
        ada, bob = Person(chat, "Ada"), Person(chat, "Bob")
        dm = ada.dm(bob)
        for index in range(3):
            ada.announced(dm, f"r{index}.bin", 1)
        status, body = ada.announce(dm, "r3.bin", 1)
        assert_error(status, body, 429, "rate_limited")
        bob.announced(dm, "bob.bin", 1)  # a budget per user
    finally:
        server.stop()


# MARK: 6. metrics

def test_metrics_count_uploads(chat):
    ada, bob = Person(chat, "Ada"), Person(chat, "Bob")
    dm = ada.dm(bob)
    before, _ = metrics(chat.server)
    data = os.urandom(12_345)
    attachment = ada.upload(dm, data, "m.bin")
    ada.sent(dm, "", [attachment["id"]])  # with S3, the upload is confirmed (and counted) on send
    after, text = metrics(chat.server)
    assert after.get("parley_attachment_uploads_total", 0) >= 1, text
    assert after["parley_attachment_uploads_total"] >= before.get("parley_attachment_uploads_total", 0) + 1
    assert after["parley_attachment_uploaded_bytes_total"] >= before.get("parley_attachment_uploaded_bytes_total", 0) + len(data)
    assert "parley_attachment_stored_bytes" in after, text


# MARK: 5. streaming

def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


class RSSSampler:
    """Samples a process's VmRSS every few milliseconds on a thread until stopped."""

    def __init__(self, pid):
        self.pid, self.peak, self.samples = pid, 0, 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stopping.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            self.samples += 1
            self.stopping.wait(0.003)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join()


def stream_up(upload, size, seed):
    """PUTs `size` pseudo-random bytes generated 1 MiB at a time; returns (status, sha256)."""
    digest = hashlib.sha256()

    def chunks():
        block = hashlib.sha256(seed).digest() * (MiB // 32)
        sent = 0
        index = 0
        while sent < size:
            piece = (struct.pack(">Q", index) + block)[:min(MiB, size - sent)]
            digest.update(piece)
            sent += len(piece)
            index += 1
            yield piece

    parts = urllib.parse.urlsplit(upload["url"])
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        connection.request("PUT", parts.path + "?" + parts.query, body=chunks(),
                           headers={**upload["headers"], "Content-Length": str(size)})
        response = connection.getresponse()
        response.read()
        return response.status, digest.hexdigest()
    finally:
        connection.close()


def stream_down(server, token, attachment_id, slowly=False):
    """GETs an attachment reading 1 MiB at a time (`slowly`: 256 KiB every few milliseconds, so
    the server must wait for the reader rather than queue the file); returns (status, bytes, sha256)."""
    digest, total = hashlib.sha256(), 0
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        connection.request("GET", f"/attachments/{attachment_id}", headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        while True:
            piece = response.read(MiB // 4 if slowly else MiB)
            if not piece:
                break
            if slowly:
                time.sleep(0.003)
            digest.update(piece)
            total += len(piece)
        return response.status, total, digest.hexdigest()
    finally:
        connection.close()


def test_streams_large_files_without_buffering_them():
    server = start_parley("attach-stream", STREAM_PORT, {})
    try:
        pid = server.process.pid
        with open(f"/proc/{pid}/comm") as comm:
            assert comm.read().strip() == "parley", "the Server's PID is not Parley's"
        chat = Chat("local", server)
        ada, bob = Person(chat, "Ada"), Person(chat, "Bob")
        dm = ada.dm(bob)
        # Warm up the same paths with a small file, so the baseline holds what any transfer needs.
        warm = ada.announced(dm, "warm.bin", 3 * MiB)
        assert stream_up(warm["upload"], 3 * MiB, b"warm")[0] == 204
        ada.sent(dm, "", [warm["attachment"]["id"]])
        assert stream_down(server, bob.token, warm["attachment"]["id"])[:2] == (200, 3 * MiB)
        time.sleep(0.3)
        baseline, hwm_before = rss_kib(pid), rss_kib(pid, "VmHWM")

        count, size = 4, DEFAULT_MAX_BYTES
        started = time.monotonic()
        with RSSSampler(pid) as sampler:
            uploads = []
            for index in range(count):
                answer = ada.announced(dm, f"big{index}.bin", size)
                status, digest = stream_up(answer["upload"], size, f"seed{index}".encode())
                assert status == 204, status
                uploads.append((answer["attachment"]["id"], digest))
            uploaded_at = time.monotonic()
            upload_peak = sampler.peak
            message = ada.sent(dm, "big files", [i for i, _ in uploads])
            assert len(message["attachments"]) == count
            for index, (attachment_id, digest) in enumerate(uploads):
                assert stream_down(server, bob.token, attachment_id, slowly=index == 0) == (200, size, digest)
        finished = time.monotonic()
        peak, hwm_after = sampler.peak, rss_kib(pid, "VmHWM")
        for attachment_id, _ in uploads:
            assert os.path.getsize(os.path.join(chat.files, attachment_id)) == size

        total = count * size
        report = (f"{total / MiB:.0f} MiB up in {uploaded_at - started:.1f} s and down in {finished - uploaded_at:.1f} s; "
                  f"RSS baseline {baseline / 1024:.1f} MiB, sampled peak {peak / 1024:.1f} MiB "
                  f"(uploads {upload_peak / 1024:.1f} MiB) "
                  f"(+{(peak - baseline) / 1024:.1f} MiB, {sampler.samples} samples), "
                  f"VmHWM {hwm_before / 1024:.1f} -> {hwm_after / 1024:.1f} MiB")
        print("\n" + report)
        limit = baseline + 60 * 1024
        assert peak < limit, report
        # VmHWM catches a peak between two samples: it may only have grown to below the limit.
        assert hwm_after <= max(hwm_before, limit), report

        # A reader that stops after 1 MiB: the server waits for it (the socket's buffers fill), it
        # does not read the rest of the 25 MiB file into memory meanwhile.
        time.sleep(0.3)
        before_stall = rss_kib(pid)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            connection.request("GET", f"/attachments/{uploads[0][0]}", headers={"Authorization": f"Bearer {bob.token}"})
            response = connection.getresponse()
            assert response.status == 200 and len(response.read(MiB)) == MiB
            time.sleep(1.0)
            stalled = rss_kib(pid)
            rest = 0
            while piece := response.read(MiB):
                rest += len(piece)
            assert rest == size - MiB
        finally:
            connection.close()
        stall_report = f"RSS {before_stall / 1024:.1f} MiB before a stalled download, {stalled / 1024:.1f} MiB while stalled"
        print(stall_report)
        assert stalled - before_stall < 12 * 1024, stall_report
    finally:
        server.stop()

    # After a restart the sweep at start reports what is stored: the four files and the warm-up.
    server = Server("attach-stream-restarted", STREAM_PORT, COMMON_ENV, data_name="attach-stream")
    try:
        deadline, stored = time.monotonic() + 10, None
        while time.monotonic() < deadline:
            stored = metrics(server)[0].get("parley_attachment_stored_bytes")
            if stored == total + 3 * MiB:
                break
            time.sleep(0.2)
        assert stored == total + 3 * MiB, stored
        assert stream_down(server, bob.token, uploads[0][0]) == (200, size, uploads[0][1])
    finally:
        server.stop()


# MARK: parley check

def test_check_reports_the_storage(s3store, tmp_path):
    """`parley check` (the installed binary) says whether attachments can be kept where
    STORAGE_URL says: a writable folder; a bucket that accepts Parley's signature and whose
    CORS rules let the site upload; a wrong secret is a FAIL with the reason, not a stack trace."""
    from parley_server import run_shipped

    def check(**env):
        env_file = tmp_path / f"parley-{uuid.uuid4().hex}.env"
        env_file.write_text("".join(f"{name}={value}\n" for name, value in env.items()))
        return run_shipped(["check", "--skip-port", "--env-file", str(env_file)], {})

    folder = tmp_path / "files"
    result = check(DATA_DIR=str(tmp_path), STORAGE_URL=f"file://{folder}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ok   attachments folder {folder} is writable" in result.stdout, result.stdout

    s3 = {"DATA_DIR": str(tmp_path), "PUBLIC_URL": "https://chat.example.com",
          "STORAGE_URL": f"s3://{s3store.bucket}?endpoint={s3store.endpoint}&region={s3store.region}",
          "S3_ACCESS_KEY_ID": s3store.access_key, "S3_SECRET_ACCESS_KEY": s3store.secret_key}
    result = check(**s3)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   the bucket accepts Parley's signed requests" in result.stdout, result.stdout
    assert "ok   the bucket's CORS rules let https://chat.example.com upload and download" in result.stdout, result.stdout
    assert s3store.secret_key not in result.stdout + result.stderr

    result = check(**{**s3, "S3_SECRET_ACCESS_KEY": "not-the-secret-0123456789"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL the store refused Parley's signature (403)" in result.stdout, result.stdout
    assert "not-the-secret" not in result.stdout + result.stderr

    result = check(**{**s3, "STORAGE_URL": "s3://parley-attachments?endpoint=http://127.0.0.1:9&region=us-east-1"})
    assert result.returncode == 1 and "FAIL cannot reach the bucket" in result.stdout, result.stdout
