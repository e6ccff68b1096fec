"""scripts/configure-host, the guide's one configuration step, run against temporary root folders.

What the issue found: values kept in shell variables vanished with an SSH session, the guide's
`sed` lines then wrote empty addresses and an empty secret, and nothing noticed. Here: every
empty, malformed or private-as-public value is refused before anything is written; what is
written is consistent (parley.env, turnserver.conf, the Caddy and coturn units agree) and
checked; later runs read the domain and secret back from parley.env but derive the addresses
afresh (a restore onto a new VM gets the new VM's addresses); `--check` finds a file emptied
or changed afterwards; and a changed shipped file is re-copied on the next run with the old
version kept.
"""
import http.server
import os
import re
import shutil
import stat
import subprocess
import threading

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGURE = os.path.join(ROOT, "scripts", "configure-host")
TEMPLATE = os.path.join(ROOT, "infra", "coturn", "turnserver.conf")
DOMAIN, PUBLIC, PRIVATE = "chat.parley-test.example", "203.0.113.10", "10.0.0.5"


def configure(root, *args, env=None, script=CONFIGURE):
    return subprocess.run([script, "--root", str(root), *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, **(env or {})))


def env_file(root):
    values = {}
    for line in (root / "etc" / "parley" / "parley.env").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            values[match.group(1)] = match.group(2)
    return values


def turn_options(root):
    options = {}
    for line in (root / "etc" / "turnserver.conf").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            options.setdefault(name, []).append(value)
    return options


def written_files(root):
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


@pytest.fixture
def configured(tmp_path):
    result = configure(tmp_path, "--domain", DOMAIN, "--public-ip", PUBLIC, "--private-ip", PRIVATE)
    assert result.returncode == 0, result.stdout + result.stderr
    return tmp_path


def test_one_run_writes_every_file_with_the_same_values(configured):
    values = env_file(configured)
    assert values["PARLEY_DOMAIN"] == DOMAIN and values["RTC_PUBLIC_IP"] == PUBLIC and values["PARLEY_PRIVATE_IP"] == PRIVATE
    assert re.fullmatch(r"[0-9a-f]{64}", values["TURN_SECRET"])
    assert values["ICE_STUN_URLS"] == f"stun:{DOMAIN}:3478"
    assert values["ICE_TURN_URLS"].split(",") == [f"turn:{DOMAIN}:3478?transport=udp", f"turn:{DOMAIN}:3478?transport=tcp",
                                                  f"turns:{DOMAIN}:5349?transport=tcp"]
    assert values["HOST"] == "127.0.0.1"   # the rest of the example file is there as shipped
    options = turn_options(configured)
    assert options["static-auth-secret"] == [values["TURN_SECRET"]]
    assert options["external-ip"] == [f"{PUBLIC}/{PRIVATE}"]
    assert options["listening-ip"] == [PRIVATE] and options["relay-ip"] == [PRIVATE]
    assert options["allowed-peer-ip"] == [PUBLIC, PRIVATE] and options["realm"] == [DOMAIN]
    # Only the placeholders changed: the shipped file otherwise as it is (test_turn.py runs it).
    shipped = open(TEMPLATE).read().splitlines()
    written = (configured / "etc" / "turnserver.conf").read_text().splitlines()
    assert len(shipped) == len(written)
    assert all(a == b for a, b in zip(shipped, written) if "CHANGE-ME" not in a and "chat.example.com" not in a)
    # Secrets are not world-readable.
    for secret_file in ("etc/parley/parley.env", "etc/turnserver.conf"):
        assert stat.S_IMODE((configured / secret_file).stat().st_mode) == 0o640, secret_file
    units = configured / "etc" / "systemd" / "system"
    assert f"Environment=PARLEY_DOMAIN={DOMAIN}\n" in (units / "caddy.service.d" / "parley.conf").read_text()
    assert f"Environment=DOMAIN={DOMAIN}\n" in (units / "coturn-certs.service").read_text()
    after_network = (units / "coturn.service.d" / "parley.conf").read_text()
    assert "After=network-online.target" in after_network and "Wants=network-online.target" in after_network
    assert (configured / "etc" / "caddy" / "Caddyfile").read_text() == open(os.path.join(ROOT, "Caddyfile")).read()
    assert os.access(configured / "usr" / "local" / "sbin" / "parley-coturn-certs", os.X_OK)
    got = configure(configured, "--get", "RTC_PUBLIC_IP")
    assert got.returncode == 0 and got.stdout == f"{PUBLIC}\n"
    assert configure(configured, "--get", "JWT_SIGNING_KEY").returncode != 0   # unset: an error, not ""
    check = configure(configured, "--check")
    assert check.returncode == 0 and f"public {PUBLIC}, private {PRIVATE}" in check.stdout, check.stderr


@pytest.mark.parametrize("args,message", [
    (["--domain", DOMAIN, "--public-ip", "", "--private-ip", PRIVATE], "--public-ip is empty"),
    (["--domain", DOMAIN, "--public-ip", PUBLIC, "--private-ip", ""], "--private-ip is empty"),
    (["--domain", "", "--public-ip", PUBLIC, "--private-ip", PRIVATE], "--domain is empty"),
    (["--public-ip", PUBLIC, "--private-ip", PRIVATE], "--domain is required"),
    (["--domain", DOMAIN, "--public-ip", PRIVATE, "--private-ip", PRIVATE], "private/loopback address"),
    (["--domain", DOMAIN, "--public-ip", "203.0.113.300", "--private-ip", PRIVATE], "not an IPv4 address"),
    (["--domain", "chat example", "--public-ip", PUBLIC, "--private-ip", PRIVATE], "not a domain name"),
])
def test_empty_or_bad_values_are_refused_before_anything_is_written(tmp_path, args, message):
    result = configure(tmp_path, *args)
    assert result.returncode != 0 and message in result.stderr, result.stdout + result.stderr
    assert written_files(tmp_path) == []


def test_a_bad_value_on_a_later_run_leaves_the_files_as_they_were(configured):
    before = {path: (configured / path).read_bytes() for path in written_files(configured)}
    result = configure(configured, "--public-ip", "", "--private-ip", PRIVATE)
    assert result.returncode != 0
    assert {path: (configured / path).read_bytes() for path in written_files(configured)} == before


def test_a_rerun_keeps_domain_and_secret_and_takes_the_new_vms_addresses(configured):
    """A restore: the old VM's parley.env is back in place, this VM has other addresses."""
    secret = env_file(configured)["TURN_SECRET"]
    result = configure(configured, "--public-ip", "198.51.100.7", "--private-ip", "10.0.1.9")
    assert result.returncode == 0, result.stderr
    assert "RTC_PUBLIC_IP changes from 203.0.113.10 to 198.51.100.7" in result.stdout
    values = env_file(configured)
    assert (values["PARLEY_DOMAIN"], values["TURN_SECRET"]) == (DOMAIN, secret)
    assert (values["RTC_PUBLIC_IP"], values["PARLEY_PRIVATE_IP"]) == ("198.51.100.7", "10.0.1.9")
    assert turn_options(configured)["external-ip"] == ["198.51.100.7/10.0.1.9"]
    assert turn_options(configured)["static-auth-secret"] == [secret]
    # One line per variable, never a second appended copy.
    text = (configured / "etc" / "parley" / "parley.env").read_text()
    assert len(re.findall(r"^RTC_PUBLIC_IP=", text, re.MULTILINE)) == 1


def test_check_finds_what_was_emptied_or_changed_afterwards(configured):
    path = configured / "etc" / "parley" / "parley.env"
    original = path.read_text()
    path.write_text(re.sub(r"^RTC_PUBLIC_IP=.*$", "RTC_PUBLIC_IP=", original, flags=re.MULTILINE))
    emptied = configure(configured, "--check")
    assert emptied.returncode != 0 and "RTC_PUBLIC_IP" in emptied.stderr
    path.write_text(original)
    turn = configured / "etc" / "turnserver.conf"
    turn.write_text(re.sub(r"^static-auth-secret=.*$", "static-auth-secret=", turn.read_text(), flags=re.MULTILINE))
    changed = configure(configured, "--check")
    assert changed.returncode != 0 and "static-auth-secret" in changed.stderr


def test_an_upgrade_recopies_a_changed_shipped_file_and_keeps_the_old_one(tmp_path):
    """configure-host from a copy of the repository whose turnserver.conf a new release changed."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(CONFIGURE, repo / "scripts")
    shutil.copytree(os.path.join(ROOT, "infra"), repo / "infra")
    shutil.copy(os.path.join(ROOT, "Caddyfile"), repo / "Caddyfile")
    script = str(repo / "scripts" / "configure-host")
    root = tmp_path / "root"
    root.mkdir()
    assert configure(root, "--domain", DOMAIN, "--public-ip", PUBLIC, "--private-ip", PRIVATE, script=script).returncode == 0
    template = repo / "infra" / "coturn" / "turnserver.conf"
    template.write_text(template.read_text().replace("user-quota=24", "user-quota=30"))
    again = configure(root, "--public-ip", PUBLIC, "--private-ip", PRIVATE, script=script)
    assert again.returncode == 0, again.stderr
    assert re.search(r"^changed: +.*/etc/turnserver.conf", again.stdout, re.MULTILINE), again.stdout
    assert re.search(r"^unchanged: +.*/etc/parley/parley.env", again.stdout, re.MULTILINE), again.stdout
    assert turn_options(root)["user-quota"] == ["30"]
    assert "user-quota=24" in (root / "etc" / "turnserver.conf.parley-old").read_text()


class _EchoAddress(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("answer,ok", [(b"203.0.113.44\n", True), (b"<html>blocked</html>", False), (b"", False)])
def test_the_public_address_is_detected_and_a_bad_answer_refused(tmp_path, answer, ok):
    handler = type("Echo", (_EchoAddress,), {"body": answer})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = configure(tmp_path, "--domain", DOMAIN, "--private-ip", PRIVATE,
                           env={"PARLEY_PUBLIC_IP_URL": f"http://127.0.0.1:{server.server_port}/"})
    finally:
        server.shutdown()
        server.server_close()
    if ok:
        assert result.returncode == 0 and env_file(tmp_path)["RTC_PUBLIC_IP"] == "203.0.113.44", result.stderr
    else:
        assert result.returncode != 0 and written_files(tmp_path) == [], result.stdout + result.stderr


def test_parley_starts_with_the_written_environment_file(configured):
    """Every value configure-host writes is one Parley accepts (it stops at start on a bad one)."""
    from parley_server import Server
    values = {name: value for name, value in env_file(configured).items()
              if name not in ("HOST", "PORT", "RTC_UDP_PORT", "DATA_DIR", "WEB_ROOT")}
    assert values["RTC_PUBLIC_IP"] == PUBLIC and values["TURN_SECRET"]
    server = Server("ops-configured-env", 18519, values)   # raises if Parley refuses a value
    try:
        status, body = server.call("GET", "/readyz")
        assert status == 200, body
    finally:
        server.stop()
