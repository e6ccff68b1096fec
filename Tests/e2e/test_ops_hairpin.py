"""scripts/hairpin against a cloud-style 1:1 NAT built of this test's own network namespaces.

A "vm" namespace holds only a private address (as an Oracle VM's interface does) behind a
"gateway" namespace that owns the VM's public address by NAT. The gateway either reflects the
VM's packets to its own public address back to it (hairpin) or drops them, as a cloud network
that does not hairpin does. `scripts/hairpin check` must tell the two apart, and the rule set of
`scripts/hairpin rules`, loaded into the VM's namespace, must make the failing case work (and
load again without piling up). Addresses are documentation/private ranges that exist only
inside these namespaces; nothing leaves them. Needs root, ip and nft (scripts/test installs nftables).
"""
import os
import subprocess
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HAIRPIN = os.path.join(ROOT, "scripts", "hairpin")
PUBLIC, PRIVATE, GATEWAY = "203.0.113.10", "10.77.0.5", "10.77.0.1"
PORT = 7882


def run(*argv, check=True):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert not check or result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"
    return result


@pytest.fixture
def cloud():
    """(vm, gateway) namespace names, wired as VM --veth-- gateway; gateway forwards."""
    suffix = uuid.uuid4().hex[:6]
    vm, gateway = f"parley-ops-vm-{suffix}", f"parley-ops-gw-{suffix}"
    run("ip", "netns", "add", vm)
    run("ip", "netns", "add", gateway)
    try:
        run("ip", "link", "add", "vm0", "netns", vm, "type", "veth", "peer", "name", "gw0", "netns", gateway)
        run("ip", "-n", vm, "addr", "add", f"{PRIVATE}/24", "dev", "vm0")
        run("ip", "-n", gateway, "addr", "add", f"{GATEWAY}/24", "dev", "gw0")
        for namespace, link in ((vm, "vm0"), (gateway, "gw0")):
            run("ip", "-n", namespace, "link", "set", "lo", "up")
            run("ip", "-n", namespace, "link", "set", link, "up")
        run("ip", "-n", vm, "route", "add", "default", "via", GATEWAY)
        run("ip", "netns", "exec", gateway, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        run("ip", "netns", "exec", gateway, "sysctl", "-qw", "net.ipv4.conf.all.send_redirects=0",
            "net.ipv4.conf.gw0.send_redirects=0")
        yield vm, gateway
    finally:
        run("ip", "netns", "del", vm, check=False)
        run("ip", "netns", "del", gateway, check=False)


def nft(namespace, ruleset):
    result = subprocess.run(["ip", "netns", "exec", namespace, "nft", "-f", "-"], input=ruleset,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def gateway_hairpins(gateway):
    """The gateway's 1:1 NAT reflects traffic to the public address back to the VM, with the
    public address as its source (what a hairpinning cloud NAT does)."""
    nft(gateway, f"""table ip cloud {{
        chain prerouting {{ type nat hook prerouting priority -100; ip daddr {PUBLIC} dnat to {PRIVATE}; }}
        chain postrouting {{ type nat hook postrouting priority 100; ip saddr {PRIVATE} ip daddr {PRIVATE} snat to {PUBLIC}; }}
    }}""")


def check(vm, *extra):
    return subprocess.run(["ip", "netns", "exec", vm, HAIRPIN, "check", "--public-ip", PUBLIC, "--private-ip", PRIVATE,
                           "--port", str(PORT), *extra], capture_output=True, text=True, timeout=30)


def test_check_passes_where_the_network_hairpins(cloud):
    vm, gateway = cloud
    gateway_hairpins(gateway)
    result = check(vm)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"hairpin: works" in result.stdout and f"(from {PUBLIC})" in result.stdout


def test_check_fails_without_hairpin_and_the_rule_mends_it(cloud):
    vm, _ = cloud
    failed = check(vm)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "does NOT work" in failed.stdout and "scripts/hairpin install" in failed.stdout

    rules = run(HAIRPIN, "rules", "--public-ip", PUBLIC, "--private-ip", PRIVATE).stdout
    nft(vm, rules)
    nft(vm, rules)   # a second load (a restart of parley-hairpin.service) replaces, not adds
    listed = run("ip", "netns", "exec", vm, "nft", "list", "table", "ip", "parley_hairpin").stdout
    assert listed.count("dnat to") == 1, listed
    fixed = check(vm)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert f"(from {PRIVATE})" in fixed.stdout   # the local rule, not the network, brought it back


def test_check_reads_the_addresses_from_the_environment_file(cloud, tmp_path):
    vm, gateway = cloud
    gateway_hairpins(gateway)
    env = tmp_path / "parley.env"
    env.write_text(f"RTC_PUBLIC_IP={PUBLIC}\nPARLEY_PRIVATE_IP={PRIVATE}\n")
    result = subprocess.run(["ip", "netns", "exec", vm, HAIRPIN, "check", "--env-file", str(env), "--port", str(PORT)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    # An env file without the addresses (the old guide's empty sed results) is refused by name.
    env.write_text("RTC_PUBLIC_IP=\nPARLEY_PRIVATE_IP=\n")
    empty = subprocess.run([HAIRPIN, "check", "--env-file", str(env)], capture_output=True, text=True, timeout=30)
    assert empty.returncode == 1 and "RTC_PUBLIC_IP" in empty.stderr and "configure-host" in empty.stderr


def test_install_writes_the_rule_file_and_its_unit(tmp_path):
    result = run(HAIRPIN, "install", "--root", str(tmp_path), "--public-ip", PUBLIC, "--private-ip", PRIVATE)
    rules = (tmp_path / "etc" / "parley" / "hairpin.nft").read_text()
    assert f"ip daddr {PUBLIC} dnat to {PRIVATE}" in rules
    unit = (tmp_path / "etc" / "systemd" / "system" / "parley-hairpin.service").read_text()
    assert "ExecStart=/usr/sbin/nft -f /etc/parley/hairpin.nft" in unit and "Before=coturn.service parley.service" in unit
    assert run("nft", "-c", "-f", str(tmp_path / "etc" / "parley" / "hairpin.nft")).returncode == 0
    assert "systemctl enable --now parley-hairpin" in result.stdout
