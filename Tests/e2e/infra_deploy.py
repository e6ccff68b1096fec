"""Running the shipped deployment files (Caddyfile, infra/coturn/turnserver.conf) in tests.

The tests change only what cannot be the same on a test machine (ports, addresses, paths,
the ACME issuer) and run the rest of each shipped file unchanged, so they test what is shipped.
"""
import base64
import hashlib
import hmac
import os
import re
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

from parley_server import ARTIFACTS, ROOT

CADDYFILE = os.path.join(ROOT, "Caddyfile")
TURNSERVER_CONF = os.path.join(ROOT, "infra", "coturn", "turnserver.conf")


class Daemon:
    """A process started by a test, with its output in ARTIFACTS/<name>.log, stopped by its PID."""

    def __init__(self, name, argv, env=None):
        os.makedirs(ARTIFACTS, exist_ok=True)
        self.name = name
        self.log_path = os.path.join(ARTIFACTS, f"{name}.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_until(self, ready, timeout=20, what="ready"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {self.output()[-2000:]}")
            if ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not {what} within {timeout}s: {self.output()[-2000:]}")

    def output(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as handle:
            return handle.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.close()


def isolated_environment(home, **variables):
    """The environment of a daemon whose state (Caddy's storage and config) stays in `home`."""
    environment = dict(os.environ, HOME=home, XDG_DATA_HOME=os.path.join(home, "data"),
                       XDG_CONFIG_HOME=os.path.join(home, "config"))
    environment.update(variables)
    return environment


# Caddy

def caddyfile_for_test(storage, admin_port, http_port, https_port):
    """The shipped Caddyfile with test options added at the top of its global options block:
    certificates from Caddy's own local CA (no ACME, no change to the system trust store), its
    admin API, ports and storage here. The shipped global options (the log filter) stay."""
    with open(CADDYFILE) as handle:
        lines = handle.read().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#"))
    assert lines[index].rstrip("\n") == "{", "the shipped Caddyfile no longer starts with a global options block"
    test_options = ("\tlocal_certs\n\tskip_install_trust\n"
                    f"\tadmin 127.0.0.1:{admin_port}\n\thttp_port {http_port}\n\thttps_port {https_port}\n"
                    f"\tstorage file_system {storage}\n")
    return "".join(lines[:index + 1]) + test_options + "".join(lines[index + 1:])


def caddy_root_certificate(storage):
    return os.path.join(storage, "pki", "authorities", "local", "root.crt")


def https_context(cafile):
    return ssl.create_default_context(cafile=cafile)


def https_ready(url, cafile):
    """True once `url` answers through TLS trusted by `cafile`."""
    if not os.path.exists(cafile):
        return False
    try:
        with urllib.request.urlopen(url, timeout=2, context=https_context(cafile)) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, ssl.SSLError, socket.timeout):
        return False


# coturn

def turn_rest_credential(secret, user, expiry):
    """The TURN REST credential coturn's `use-auth-secret` accepts (docs/protocol.md "Calls"):
    username `<unix expiry>:<user>`, password base64(HMAC-SHA1(secret, username))."""
    username = f"{int(expiry)}:{user}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


def adapt_turnserver_conf(text, replacements, drop=(), append=()):
    """The shipped turnserver.conf with the options named in `replacements` given new values
    (every line setting one is replaced; `None` removes it), lines matching a regex of `drop`
    removed and `append` lines added. Comments and every other option stay as shipped."""
    seen, out = set(), []
    for line in text.splitlines():
        option = line.strip().split("=", 1)[0].strip() if line.strip() and not line.lstrip().startswith("#") else None
        if option is not None and any(re.search(pattern, line.strip()) for pattern in drop):
            out.append(f"# (test: removed) {line.strip()}")
            continue
        if option in replacements:
            if option not in seen and replacements[option] is not None:
                value = replacements[option]
                out.append(option if value is True else f"{option}={value}")
            seen.add(option)
            continue
        out.append(line)
    for option, value in replacements.items():
        if option not in seen and value is not None:
            out.append(option if value is True else f"{option}={value}")
    out.extend(append)
    return "\n".join(out) + "\n"


def shipped_turnserver_options(text):
    """option -> [values] of the shipped turnserver.conf (flags have the value True)."""
    options = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        options.setdefault(name.strip(), []).append(value.strip() if _ else True)
    return options
