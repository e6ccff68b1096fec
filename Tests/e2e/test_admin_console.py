"""`parley admin` and `parley seed-demo`, run as installed, beside a running server.

Each test runs on SQLite (a DATA_DIR of its own) and on PostgreSQL (a fresh database made on
the server of PARLEY_MULTI_POSTGRES_URL or PARLEY_TEST_POSTGRES_URL; skipped when neither is
set). The console opens the database the configuration names, as `serve` does, and its
changes show through the server's REST API at once: an invitation lets someone register, a
promotion opens /admin, a deactivation refuses login, a reset password replaces the old one.
Refusals (unknown email, the last administrator, bad values, an unreachable database, a bad
REGISTRATION) exit non-zero with a message on stderr.
"""
import os
import re
import shutil
import subprocess
import urllib.parse
import uuid

import pytest

from parley_server import ARTIFACTS, Server, run_shipped
from private_postgres import server_binaries

PASSWORD = "password123"


def postgres_base_url():
    return os.environ.get("PARLEY_MULTI_POSTGRES_URL") or os.environ.get("PARLEY_TEST_POSTGRES_URL")


class Backend:
    """Where one test's server and console keep their data: `env` for both."""

    def __init__(self, kind, name):
        self.kind, self.name = kind, name
        self.data = os.path.join(ARTIFACTS, f"{name}-data")
        shutil.rmtree(self.data, ignore_errors=True)
        os.makedirs(self.data)
        self.env = {"DATA_DIR": self.data}
        self.database = None
        if kind == "postgres":
            base = urllib.parse.urlsplit(postgres_base_url())
            self.database = f"console_{uuid.uuid4().hex[:10]}"
            self._pg(["createdb"], base)
            url = base._replace(path="/" + self.database).geturl()
            self.env.update(DATABASE_URL=url, JWT_SIGNING_KEY=f"{name}-signing-key-of-at-least-32-bytes")
            self.base = base

    def _pg(self, command, base, *extra):
        binary = os.path.join(server_binaries(), command[0])
        subprocess.run([binary, "-h", base.hostname, "-p", str(base.port or 5432), "-U", base.username or "parley",
                        *command[1:], *extra, self.database], check=True, capture_output=True, timeout=60)

    def drop(self):
        if self.database:
            self._pg(["dropdb", "--if-exists", "--force"], self.base)


def backends():
    kinds = [pytest.param("sqlite")]
    kinds.append(pytest.param("postgres", marks=pytest.mark.skipif(
        not postgres_base_url(), reason="PARLEY_MULTI_POSTGRES_URL / PARLEY_TEST_POSTGRES_URL not set")))
    return kinds


@pytest.fixture(params=backends())
def backend(request):
    store = Backend(request.param, f"console-{request.param}-{request.node.originalname}")
    yield store
    store.drop()


def console(backend, *arguments, env=None):
    return run_shipped(list(arguments), {**backend.env, **(env or {})}, timeout=60)


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}: {result.stdout}{result.stderr}"
    return result.stdout


def refused(result, pattern):
    assert result.returncode == 1, f"exit {result.returncode}: {result.stdout}{result.stderr}"
    assert re.search(pattern, result.stderr), result.stderr
    return result.stderr


def register(server, name, code=None):
    body = {"email": f"{name.lower()}@example.com", "password": PASSWORD, "displayName": name}
    if code:
        body["inviteCode"] = code
    return server.call("POST", "/auth/register", body)


def login(server, name, password=PASSWORD):
    return server.call("POST", "/auth/login", {"email": f"{name.lower()}@example.com", "password": password})


def test_invite_users_promote_deactivate_and_reset_password(backend):
    port = 18721 if backend.kind == "sqlite" else 18723
    server = Server(f"{backend.name}-server", port, {**backend.env, "REGISTRATION": "invite"}, data_name=backend.name)
    try:
        # The first account of the empty server is its administrator; the next needs an invitation.
        status, ada = register(server, "Ada")
        assert status == 201 and ada["user"]["role"] == "admin", ada
        status, body = register(server, "Bob")
        assert status == 403 and body["error"]["code"] == "registration_closed"

        out = ok(console(backend, "admin", "invite", "--max-uses", "1", "--expires-in-hours", "2"))
        code = re.search(r"^code: (\S+)$", out, re.M).group(1)
        assert f"/#/signup?invite={code}" in out and "uses: 1" in out
        status, bob = register(server, "Bob", code)
        assert status == 201, bob
        status, body = register(server, "Cy", code)
        assert status == 403 and body["error"]["code"] == "registration_closed", "one use only"
        with_url = ok(console(backend, "admin", "invite", env={"PUBLIC_URL": "https://chat.example.com"}))
        assert re.search(r"^url: https://chat\.example\.com/#/signup\?invite=\S+$", with_url, re.M), with_url

        listing = ok(console(backend, "admin", "users"))
        assert "ada@example.com\tAda\tadmin\tactive" in listing and "bob@example.com\tBob\tmember\tactive" in listing
        only_bob = ok(console(backend, "admin", "users", "--query", "bo"))
        assert "bob@example.com" in only_bob and "ada@example.com" not in only_bob

        # Promote Bob; then Ada can be demoted, and Bob, the last administrator, cannot.
        assert server.call("GET", "/admin/users", token=bob["accessToken"])[0] == 403
        ok(console(backend, "admin", "promote", "BOB@example.com"))
        assert server.call("GET", "/admin/users", token=bob["accessToken"])[0] == 200
        ok(console(backend, "admin", "demote", "ada@example.com"))
        refused(console(backend, "admin", "demote", "bob@example.com"), r"last active administrator")
        refused(console(backend, "admin", "deactivate", "bob@example.com"), r"last active administrator")

        # Deactivate Ada: her token stops working and login is refused; reactivate lets her back.
        ok(console(backend, "admin", "deactivate", "ada@example.com"))
        assert server.call("GET", "/users/me", token=ada["accessToken"])[0] == 401
        status, body = login(server, "Ada")
        assert status == 403 and body["error"]["code"] == "account_deactivated"
        ok(console(backend, "admin", "reactivate", "ada@example.com"))
        assert login(server, "Ada")[0] == 200

        # Reset Bob's password: printed once, the old one and his logins end.
        out = ok(console(backend, "admin", "reset-password", "bob@example.com"))
        password = re.search(r"new password for bob@example\.com: (\S+)", out).group(1)
        assert server.call("GET", "/users/me", token=bob["accessToken"])[0] == 401
        assert login(server, "Bob")[0] == 401
        assert login(server, "Bob", password)[0] == 200
        assert password not in open(server.log.name).read(), "the password reaches no log"

        # Unknown emails and bad values are refused with a message and exit status 1.
        for command in ("deactivate", "reactivate", "promote", "demote", "reset-password"):
            refused(console(backend, "admin", command, "nobody@example.com"), r"No account has the email nobody@example\.com")
        refused(console(backend, "admin", "invite", "--max-uses", "0"), r"maxUses must be 1 to 1000")
        refused(console(backend, "admin", "invite", "--expires-in-hours", "721"), r"expiresInHours must be 1 to 720")
        usage = console(backend, "admin", "deactivate")
        assert usage.returncode == 64 and "email" in usage.stderr.lower()
    finally:
        server.stop()


def test_seed_demo_fills_an_empty_server_and_refuses_a_used_one(backend):
    out = ok(console(backend, "seed-demo"))
    accounts = re.findall(r"^\s+(\S+@demo\.example)\s+(\S+)\s+(\w+)", out, re.M)
    assert [email for email, _, _ in accounts] == ["alice@demo.example", "bob@demo.example", "carol@demo.example"], out
    assert "(administrator)" in out.splitlines()[1]
    refused(console(backend, "seed-demo"), r"already has accounts")
    forced = ok(console(backend, "seed-demo", "--force"))
    assert len(re.findall(r"@demo\.example", forced)) == 3

    port = 18725 if backend.kind == "sqlite" else 18727
    server = Server(f"{backend.name}-server", port, backend.env, data_name=backend.name)
    try:
        email, password, _ = accounts[0]
        status, alice = server.call("POST", "/auth/login", {"email": email, "password": password})
        assert status == 200 and alice["user"]["role"] == "admin"
        status, page = server.call("GET", "/conversations", token=alice["accessToken"])
        kinds = sorted(conversation["kind"] for conversation in page["conversations"])
        assert kinds == ["dm", "group"]
        group = next(c for c in page["conversations"] if c["kind"] == "group")
        assert len(group["members"]) == 3
        status, history = server.call("GET", f"/conversations/{group['id']}/messages", token=alice["accessToken"])
        assert len(history["messages"]) >= 3
    finally:
        server.stop()


def test_an_unreachable_database_and_a_bad_registration_value_exit_non_zero():
    unreachable = run_shipped(["admin", "users"], {
        "DATABASE_URL": "postgres://parley@127.0.0.1:1/nothing?sslmode=disable",
        "JWT_SIGNING_KEY": "console-test-signing-key-of-32-bytes-or-more"}, timeout=90)
    assert unreachable.returncode == 69, unreachable.stderr
    assert "cannot reach the database" in unreachable.stderr and "127.0.0.1:1" in unreachable.stderr
    data = os.path.join(ARTIFACTS, "console-bad-registration-data")
    bad = run_shipped(["admin", "users"], {"DATA_DIR": data, "REGISTRATION": "sometimes"})
    assert bad.returncode == 78 and "REGISTRATION: 'sometimes' must be invite, open or closed" in bad.stderr
    serve = run_shipped(["serve"], {"DATA_DIR": data, "REGISTRATION": "sometimes"})
    assert serve.returncode == 78 and "REGISTRATION" in serve.stderr
