"""A real TURN relay (Debian's coturn) with the shipped infra/coturn/turnserver.conf (issue 7).

A relay-only aiortc participant (iceTransportPolicy "relay", iceServers from call.config) talks
and listens in a call through coturn; coturn accepts Parley's TURN REST credentials and refuses
an expired one; it refuses permissions towards the private ranges the shipped file denies;
its TLS certificate comes from a Caddy-like storage through the shipped
infra/coturn/coturn-certs.sh, which also hands coturn a renewed one without a restart;
/metrics shows the media counters moving while the call runs.

The shipped file runs with only what a loopback test needs changed: addresses and ports, the
secret, a throwaway certificate, pidfile/log/userdb paths. Everything (Parley, coturn, both
peers) lives on 127.0.0.1 here, so the 127/8 denial is dropped and `allow-loopback-peers` added
(and Parley's address, allowed-peer-ip, is 127.0.0.1); in production Parley's address is the
VM's public one and loopback stays denied. Only that 127/8 entry is out of the test's reach;
every other IPv4 denial runs as shipped (IPv6 ones cannot be tried: the test relay has no
IPv6 address, so coturn answers an IPv6 peer with an address-family error instead).
"""
import asyncio
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest
from aioice import stun
from aioice.turn import make_integrity_key

from call_peer import two_peers_in_a_group
from infra_deploy import (TURNSERVER_CONF, Daemon, adapt_turnserver_conf, shipped_turnserver_options,
                          turn_rest_credential)
from parley_server import ROOT, Server, run_shipped

PARLEY_PORT, TURN_PORT, TURN_TLS_PORT = 18495, 18496, 18498
SECRET = "turn-test-secret-" + "x" * 24
REQUESTED_TRANSPORT_UDP = 0x11000000  # RFC 8656 section 18.11: protocol 17 in the first octet
COTURN_CERTS_SCRIPT = os.path.join(ROOT, "infra", "coturn", "coturn-certs.sh")
LETSENCRYPT, ZEROSSL = "acme-v02.api.letsencrypt.org-directory", "acme.zerossl.com-v2-dv90"


def shipped_relay_ports():
    """(min-port, max-port) of the shipped file: the test coturn relays from the same range."""
    with open(TURNSERVER_CONF) as handle:
        options = shipped_turnserver_options(handle.read())
    return int(options["min-port"][0]), int(options["max-port"][0])


def make_certificate(cert, key, name):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", f"/CN={name}", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=30)


def caddy_certificate(storage, issuer, name, mtime=None):
    """A certificate laid out as Caddy stores it: <storage>/<issuer>/<domain>/<domain>.crt|.key."""
    folder = os.path.join(storage, issuer, "localhost")
    os.makedirs(folder, exist_ok=True)
    cert, key = os.path.join(folder, "localhost.crt"), os.path.join(folder, "localhost.key")
    make_certificate(cert, key, name)
    if mtime is not None:
        for path in (cert, key):
            os.utime(path, (mtime, mtime))
    return cert


def run_coturn_certs(storage, target, reload="true", restart="true"):
    """The shipped copy script with this test's folders; the group is this process's own."""
    return subprocess.run(["sh", COTURN_CERTS_SCRIPT], capture_output=True, text=True, timeout=30, env=dict(
        os.environ, DOMAIN="localhost", CADDY_CERTS=storage, COTURN_CERTS=target, COTURN_GROUP=str(os.getgid()),
        COTURN_RELOAD=reload, COTURN_RESTART=restart))


def stun_binding_answered(port):
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3)
        sock.sendto(bytes(request), ("127.0.0.1", port))
        try:
            reply = stun.parse_message(sock.recv(2048))
        except (socket.timeout, ValueError):
            return False
    return reply.message_class == stun.Class.RESPONSE and reply.transaction_id == request.transaction_id


@pytest.fixture(scope="module")
def coturn():
    work = tempfile.mkdtemp(prefix="parley-turn-")
    # The certificate gets to coturn as in production: Caddy's storage -> coturn-certs.sh.
    storage, certs = os.path.join(work, "caddy-certificates"), os.path.join(work, "coturn-certs")
    caddy_certificate(storage, LETSENCRYPT, "localhost", mtime=time.time() - 3600)
    restarts = os.path.join(work, "restarts")
    copied = run_coturn_certs(storage, certs, restart=f"echo restart >> {restarts}")
    assert copied.returncode == 0, copied.stdout + copied.stderr
    cert, key = os.path.join(certs, "turn.crt"), os.path.join(certs, "turn.key")
    with open(TURNSERVER_CONF) as handle:
        shipped = handle.read()
    log = os.path.join(work, "turnserver.log")
    config = adapt_turnserver_conf(shipped, {
        "listening-ip": "127.0.0.1", "relay-ip": "127.0.0.1", "external-ip": None,
        "listening-port": TURN_PORT, "tls-listening-port": TURN_TLS_PORT,
        "static-auth-secret": SECRET, "cert": cert, "pkey": key,
        "allowed-peer-ip": "127.0.0.1",
        "log-file": log, "pidfile": os.path.join(work, "turnserver.pid"), "userdb": os.path.join(work, "turndb"),
    }, drop=[r"^denied-peer-ip=127\.0\.0\.0-"], append=[
        "# test: everything runs on loopback, so the relay must reach 127.0.0.1 (never in production)",
        "allow-loopback-peers",
        "verbose",
    ])
    path = os.path.join(work, "turnserver.conf")
    with open(path, "w") as handle:
        handle.write(config)
    daemon = Daemon("coturn", ["turnserver", "-c", path])
    daemon.log_file = log
    daemon.work, daemon.storage, daemon.certs, daemon.restarts = work, storage, certs, restarts
    try:
        daemon.wait_until(lambda: stun_binding_answered(TURN_PORT), timeout=20, what="answering STUN")
        yield daemon
    finally:
        daemon.stop()
        with open(log, errors="replace") as handle, open(os.path.join(os.path.dirname(daemon.log_path), "coturn-file.log"), "w") as out:
            out.write(handle.read())
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def server(coturn):
    instance = Server("turn-parley", PARLEY_PORT, {
        "RTC_PUBLIC_IP": "127.0.0.1", "TURN_SECRET": SECRET,
        "ICE_TURN_URLS": f"turn:127.0.0.1:{TURN_PORT}?transport=udp"})
    yield instance
    instance.stop()


def coturn_log(daemon):
    with open(daemon.log_file, errors="replace") as handle:
        return handle.read()


def test_the_shipped_config_keeps_the_relay_away_from_private_networks():
    with open(TURNSERVER_CONF) as handle:
        options = shipped_turnserver_options(handle.read())
    for flag in ("use-auth-secret", "no-multicast-peers", "no-tcp-relay", "fingerprint", "no-cli"):
        assert options.get(flag) == [True], flag
    denied = set(options["denied-peer-ip"])
    for network in ("10.0.0.0-10.255.255.255", "172.16.0.0-172.31.255.255", "192.168.0.0-192.168.255.255",
                    "127.0.0.0-127.255.255.255", "169.254.0.0-169.254.255.255", "100.64.0.0-100.127.255.255",
                    "::1", "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"):
        assert network in denied, network
    assert "allow-loopback-peers" not in options
    assert options["listening-port"] == ["3478"] and options["tls-listening-port"] == ["5349"]
    assert int(options["min-port"][0]) < int(options["max-port"][0])


def relay_pair(peer_connection):
    """The nominated ICE candidate pair of an aiortc connection (Parley is ICE-lite, so the
    aiortc side is the controlling agent that nominates)."""
    transport = peer_connection.getTransceivers()[0].sender.transport.transport
    nominated = transport._connection._nominated
    return nominated.get(1)


def metric(server, name):
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=5) as response:
        text = response.read().decode()
    match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
    assert match, f"{name} missing from /metrics"
    return float(match.group(1))


def test_a_relay_only_participant_talks_and_listens_through_coturn(coturn, server):
    asyncio.run(_relay_call(coturn, server))


async def _relay_call(coturn, server):
    group, ada, bob = two_peers_in_a_group(server, "Relay")
    ada_id, bob_id = ada.user_id, bob.user_id
    try:
        for peer in (ada, bob):
            await peer.connect()
            config = await peer.join(group["id"])
        # call.config hands out the TURN URL with a REST credential signed with TURN_SECRET.
        turn = [s for s in config["iceServers"] if any(u.startswith("turn:") for u in s["urls"])]
        assert len(turn) == 1 and turn[0]["urls"] == [f"turn:127.0.0.1:{TURN_PORT}?transport=udp"], config
        expiry, _, user = turn[0]["username"].partition(":")
        assert user == bob_id and abs(int(expiry) - (time.time() + 86400)) < 60
        assert turn_rest_credential(SECRET, bob_id, int(expiry)) == (turn[0]["username"], turn[0]["credential"])

        ada.relay_only = True   # Ada may use relay candidates only: all her media goes through coturn
        await ada.publish(440.0, 60)
        await bob.publish(660.0, 180)

        deadline = asyncio.get_running_loop().time() + 30
        while True:
            heard_by_bob, heard_by_ada = bob.received_from(ada_id, "audio"), ada.received_from(bob_id, "audio")
            if heard_by_bob and heard_by_bob.frequency() and heard_by_ada and heard_by_ada.frequency():
                break
            assert asyncio.get_running_loop().time() < deadline, \
                f"no audio through the relay: bob<-ada {heard_by_bob}, ada<-bob {heard_by_ada}; errors {ada.errors}"
            await asyncio.sleep(0.5)
        assert abs(bob.received_from(ada_id, "audio").frequency() - 440.0) < 15
        assert abs(ada.received_from(bob_id, "audio").frequency() - 660.0) < 15

        # Ada's connections use a relayed candidate of coturn; Bob's a direct host candidate.
        low, high = shipped_relay_ports()
        for connection in (ada.publish_pc, ada.subscribe_pc):
            pair = relay_pair(connection)
            assert pair is not None and pair.local_candidate.type == "relay", pair
            assert pair.local_candidate.host == "127.0.0.1" and low <= pair.local_candidate.port <= high
        assert relay_pair(bob.publish_pc).local_candidate.type == "host"
        # coturn saw Ada's allocations with her credential and permissions for Parley.
        log = coturn_log(coturn)
        assert re.search(rf"user <\d+:{ada_id}>.*ALLOCATE processed, success", log), log[-3000:]
        assert "CREATE_PERMISSION processed, success" in log or "CHANNEL_BIND processed, success" in log

        # /metrics: the media counters move while the call runs.
        assert metric(server, "parley_calls") == 1
        assert metric(server, "parley_call_participants") == 2
        assert metric(server, "parley_published_tracks") == 4
        before = (metric(server, "parley_media_packets_forwarded_total"), metric(server, "parley_media_bytes_forwarded_total"),
                  metric(server, "parley_media_packets_received_total"))
        await asyncio.sleep(1.5)
        after = (metric(server, "parley_media_packets_forwarded_total"), metric(server, "parley_media_bytes_forwarded_total"),
                 metric(server, "parley_media_packets_received_total"))
        assert all(b > a > 0 for a, b in zip(before, after)), (before, after)
    finally:
        for peer in (ada, bob):
            if getattr(peer, "socket", None) is not None:
                await peer.close()


class TurnClient:
    """TURN requests over one UDP socket: coturn binds its nonce to the client's address, so
    the challenge and the authenticated requests must come from the same port."""

    def __init__(self, port=TURN_PORT):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(3)
        self.address, self.realm, self.nonce = ("127.0.0.1", port), None, None

    def request(self, method, attributes, username=None, password=None):
        message = stun.Message(message_method=method, message_class=stun.Class.REQUEST)
        message.attributes.update(attributes)
        if username is not None:
            message.attributes.update({"USERNAME": username, "REALM": self.realm, "NONCE": self.nonce})
            message.add_message_integrity(make_integrity_key(username, self.realm, password))
        message.add_fingerprint()
        self.sock.sendto(bytes(message), self.address)
        reply = stun.parse_message(self.sock.recv(2048))
        assert reply.transaction_id == message.transaction_id
        self.realm = reply.attributes.get("REALM", self.realm)
        self.nonce = reply.attributes.get("NONCE", self.nonce)
        return reply

    def allocate(self, username=None, password=None):
        """An Allocate request for a UDP relay (RFC 8656 section 7.2)."""
        return self.request(stun.Method.ALLOCATE, {"REQUESTED-TRANSPORT": REQUESTED_TRANSPORT_UDP}, username, password)

    def release(self, username, password):
        """Refresh with lifetime 0 (RFC 8656 section 7.3): the allocation goes at once."""
        return self.request(stun.Method.REFRESH, {"LIFETIME": 0}, username, password)

    def close(self):
        self.sock.close()


def error_code(reply):
    return reply.attributes["ERROR-CODE"][0] if reply.message_class == stun.Class.ERROR else None


def attempt(username, password):
    """A fresh client's Allocate: the 401 challenge, then the request with this credential.
    (A fresh address each time: coturn ties a client's address to the first name it tried.)"""
    client = TurnClient()
    try:
        challenge = client.allocate()
        assert error_code(challenge) == 401 and client.realm == "chat.example.com" and client.nonce
        reply = client.allocate(username, password)
        if reply.message_class == stun.Class.RESPONSE:
            assert client.release(username, password).message_class == stun.Class.RESPONSE
        return reply
    finally:
        client.close()


def test_coturn_refuses_an_expired_or_forged_credential_and_accepts_a_current_one(coturn):
    # Correctly signed but expired a minute ago: 401.
    assert error_code(attempt(*turn_rest_credential(SECRET, "user-1", time.time() - 60))) == 401
    # Signed with another secret: 401.
    assert error_code(attempt(*turn_rest_credential("not-the-secret", "user-1", time.time() + 600))) == 401
    # The control: the same user's credential as Parley makes it, still valid, gets a relayed
    # address (so the 401s above were about the credential).
    granted = attempt(*turn_rest_credential(SECRET, "user-1", time.time() + 600))
    assert granted.message_class == stun.Class.RESPONSE, granted.attributes.get("ERROR-CODE")
    relayed_host, relayed_port = granted.attributes["XOR-RELAYED-ADDRESS"]
    low, high = shipped_relay_ports()
    assert relayed_host == "127.0.0.1" and low <= relayed_port <= high


# Addresses a relay must never reach, with the shipped rule that should stop each. Written out
# here rather than read from the file, so a wrong or missing range in it fails the test.
DENIED_PEERS = [
    ("10.0.0.1", "private 10/8"), ("10.255.255.254", "private 10/8"),
    ("172.16.0.1", "private 172.16/12"), ("172.31.255.254", "private 172.16/12"),
    ("192.168.1.1", "private 192.168/16"),
    ("169.254.169.254", "link-local: the cloud metadata endpoint"),
    ("100.64.0.1", "CGNAT 100.64/10"), ("100.127.255.254", "CGNAT 100.64/10"),
    ("0.0.0.1", "this network 0/8"),
    ("192.0.0.1", "IETF protocol assignments 192.0.0/24"),
    ("198.18.0.1", "benchmarking 198.18/15"),
    ("192.0.2.1", "TEST-NET-1"), ("198.51.100.1", "TEST-NET-2"), ("203.0.113.1", "TEST-NET-3"),
    ("240.0.0.1", "reserved 240/4"),
    ("224.0.0.251", "multicast (no-multicast-peers)"),
]


def test_coturn_refuses_to_relay_towards_denied_networks(coturn):
    """CreatePermission (RFC 8656 section 9) for a peer in a denied range gets 403 Forbidden, so
    no relayed packet can ever be sent there; Parley's own address (allowed-peer-ip) and an
    ordinary public address are permitted on the same allocation."""
    username, password = turn_rest_credential(SECRET, "user-peers", time.time() + 600)
    client = TurnClient()
    try:
        assert error_code(client.allocate()) == 401
        granted = client.allocate(username, password)
        assert granted.message_class == stun.Class.RESPONSE, granted.attributes.get("ERROR-CODE")

        def permission(host):
            return client.request(stun.Method.CREATE_PERMISSION, {"XOR-PEER-ADDRESS": (host, 7882)}, username, password)

        refused = {}
        for host, why in DENIED_PEERS:
            reply = permission(host)
            if error_code(reply) != 403:
                refused[host] = (why, reply.message_class, reply.attributes.get("ERROR-CODE"))
        assert not refused, f"coturn did not answer 403 for: {refused}"
        # The controls: the 403s above are about the addresses, not the request.
        for host in ("127.0.0.1", "192.88.98.1"):
            reply = permission(host)
            assert reply.message_class == stun.Class.RESPONSE, (host, reply.attributes.get("ERROR-CODE"))
        assert client.release(username, password).message_class == stun.Class.RESPONSE
    finally:
        client.close()
    log = coturn_log(coturn)
    assert "CREATE_PERMISSION processed, error 403" in log, log[-3000:]


def test_coturn_serves_turn_over_tls_on_its_tls_port(coturn):
    """The TLS options of the shipped file (certificate, protocols, ciphers) load: a TLS
    client gets a STUN answer on the TLS port."""
    import ssl
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the test's throwaway certificate
    request = stun.Message(message_method=stun.Method.ALLOCATE, message_class=stun.Class.REQUEST)
    request.attributes["REQUESTED-TRANSPORT"] = REQUESTED_TRANSPORT_UDP
    with socket.create_connection(("127.0.0.1", TURN_TLS_PORT), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
        tls.sendall(bytes(request))
        data = tls.recv(2048)
    reply = stun.parse_message(data)
    assert reply.transaction_id == request.transaction_id and reply.attributes["ERROR-CODE"][0] == 401


def served_certificate():
    """The DER certificate coturn presents on its TLS port."""
    import ssl
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", TURN_TLS_PORT), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        return tls.getpeercert(binary_form=True)


def der(path):
    import ssl
    with open(path) as handle:
        return ssl.PEM_cert_to_DER_cert(handle.read())


def test_a_renewed_certificate_reaches_coturn_without_a_restart(coturn):
    """infra/coturn/coturn-certs.sh, the way coturn-certs.service runs it: the first copy (in
    the fixture) asked for a restart and set the modes; a run with nothing new does nothing; a
    renewal under another issuer's folder (Caddy's ZeroSSL fallback) is found, copied and
    loaded with SIGUSR2, and coturn keeps running and serves it."""
    with open(coturn.restarts) as handle:
        assert handle.read() == "restart\n"
    cert, key = os.path.join(coturn.certs, "turn.crt"), os.path.join(coturn.certs, "turn.key")
    assert oct(os.stat(cert).st_mode & 0o777) == "0o644" and oct(os.stat(key).st_mode & 0o777) == "0o640"
    assert oct(os.stat(coturn.certs).st_mode & 0o777) == "0o750"
    assert served_certificate() == der(cert)

    signals = os.path.join(coturn.work, "reloads")
    reload = f"echo reload >> {signals} && kill -USR2 {coturn.process.pid}"
    unchanged = run_coturn_certs(coturn.storage, coturn.certs, reload=reload, restart="false")
    assert unchanged.returncode == 0 and not os.path.exists(signals), unchanged.stdout + unchanged.stderr

    renewed = caddy_certificate(coturn.storage, ZEROSSL, "localhost-renewed")
    copied = run_coturn_certs(coturn.storage, coturn.certs, reload=reload, restart="false")
    assert copied.returncode == 0, copied.stdout + copied.stderr
    assert der(cert) == der(renewed)
    with open(signals) as handle:
        assert handle.read() == "reload\n"
    deadline = time.time() + 10
    while served_certificate() != der(renewed):
        assert time.time() < deadline, "coturn still serves the old certificate after SIGUSR2"
        time.sleep(0.2)
    assert coturn.process.poll() is None
    with open(coturn.restarts) as handle:
        assert handle.read() == "restart\n"


def test_the_copy_script_fails_plainly_without_a_certificate(tmp_path):
    result = run_coturn_certs(str(tmp_path / "empty"), str(tmp_path / "certs"))
    assert result.returncode == 1 and "no certificate for localhost" in result.stderr
    assert not (tmp_path / "certs").exists()


def test_parley_check_allocates_with_the_secret_and_names_a_wrong_one(coturn, tmp_path):
    """`parley check`, the guide's last step before starting: a real Allocate on coturn over UDP
    and TCP with the credentials Parley hands out; a wrong secret or a closed port is named."""
    urls = f"turn:127.0.0.1:{TURN_PORT}?transport=udp,turn:127.0.0.1:{TURN_PORT}?transport=tcp"
    env_file = tmp_path / "parley.env"
    env_file.write_text(f"RTC_PUBLIC_IP=127.0.0.1\nRTC_UDP_PORT=0\nTURN_SECRET={SECRET}\nICE_TURN_URLS={urls}\n")
    result = run_shipped(["check", "--env-file", str(env_file)], {})
    assert result.returncode == 0, result.stdout + result.stderr
    granted = re.findall(r"^ok   turn:127\.0\.0\.1:\d+\?transport=(udp|tcp): allocation granted, relayed address 127\.0\.0\.1:\d+$",
                         result.stdout, re.MULTILINE)
    assert granted == ["udp", "tcp"], result.stdout
    assert SECRET not in result.stdout + result.stderr

    env_file.write_text(f"RTC_PUBLIC_IP=127.0.0.1\nRTC_UDP_PORT=0\nTURN_SECRET=not-the-secret-coturn-has-0123456789\nICE_TURN_URLS={urls}\n")
    result = run_shipped(["check", "--env-file", str(env_file)], {})
    assert result.returncode == 1 and result.stdout.count("TURN_SECRET does not match coturn's static-auth-secret") == 2, \
        result.stdout

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as unused:
        unused.bind(("127.0.0.1", 0))
        closed = unused.getsockname()[1]
    env_file.write_text(f"RTC_UDP_PORT=0\nTURN_SECRET={SECRET}\nICE_TURN_URLS=turn:127.0.0.1:{closed}\n")
    result = run_shipped(["check", "--env-file", str(env_file)], {}, timeout=60)
    assert result.returncode == 1 and f"FAIL turn:127.0.0.1:{closed}: " in result.stdout, result.stdout
