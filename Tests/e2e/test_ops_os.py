"""The scripts' distribution detection and the apt source they generate (scripts/os.sh).

Debian 12 and Ubuntu 24.04 (the self-hosting guide's image, on arm64 and amd64) are fed to the
real functions as committed fixtures (Tests/e2e/fixtures/os/: os-release files and apt folders as
those systems ship them); a system the scripts do not support (Oracle Linux) is refused by name.
The generated deb822 source is then parsed by this machine's real apt, which must list the
source index URLs of the right mirror, release and components. A failed libsrtp2 build warns
loudly and goes on, and with PARLEY_REQUIRE_OPENSSL_SRTP=1 stops the build.
"""
import os
import subprocess
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Tests", "e2e", "fixtures", "os")


def bash(script, env=None, cwd=ROOT):
    return subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **(env or {})))


def os_function(call):
    return bash(f"set -euo pipefail; source scripts/os.sh; {call}")


def deb_src(system, arch):
    fixture = os.path.join(FIXTURES, system)
    result = os_function(f"libsrtp_deb_src {fixture}/os-release {fixture}/apt {arch}")
    assert result.returncode == 0, result.stderr
    return result.stdout


def stanza(text):
    return dict(line.split(": ", 1) for line in text.strip().splitlines())


def test_debian_12_gets_its_own_mirror_main_and_debians_keyring():
    # A third-party source (caddy-stable.sources) sorts first and is not the distribution's mirror.
    assert stanza(deb_src("debian12", "arm64")) == {
        "Types": "deb-src", "URIs": "http://deb.debian.org/debian", "Suites": "bookworm bookworm-updates",
        "Components": "main", "Signed-By": "/usr/share/keyrings/debian-archive-keyring.gpg"}


def test_a_one_line_sources_list_gives_its_release_mirror_not_the_security_one():
    assert stanza(deb_src("debian12-oneline", "amd64"))["URIs"] == "http://ftp.de.debian.org/debian"


def test_ubuntu_24_04_arm64_gets_ports_universe_and_ubuntus_keyring():
    assert stanza(deb_src("ubuntu2404-arm64", "arm64")) == {
        "Types": "deb-src", "URIs": "http://ports.ubuntu.com/ubuntu-ports", "Suites": "noble noble-updates",
        "Components": "main restricted universe multiverse",
        "Signed-By": "/usr/share/keyrings/ubuntu-archive-keyring.gpg"}


def test_ubuntu_amd64_skips_the_security_stanza_listed_first():
    assert stanza(deb_src("ubuntu2404-amd64", "amd64"))["URIs"] == "http://archive.ubuntu.com/ubuntu"


def test_without_configured_sources_the_distributions_default_mirror_for_the_architecture_is_used():
    empty = tempfile.mkdtemp(prefix="parley-apt-")
    for arch, mirror in (("arm64", "http://ports.ubuntu.com/ubuntu-ports"), ("amd64", "http://archive.ubuntu.com/ubuntu")):
        result = os_function(f"libsrtp_deb_src {FIXTURES}/ubuntu2404-arm64/os-release {empty} {arch}")
        assert result.returncode == 0 and stanza(result.stdout)["URIs"] == mirror, result
    result = os_function(f"libsrtp_deb_src {FIXTURES}/debian12/os-release {empty} arm64")
    assert stanza(result.stdout)["URIs"] == "http://deb.debian.org/debian"


def test_oracle_linux_is_refused_by_name():
    result = os_function(f"libsrtp_deb_src {FIXTURES}/oraclelinux9/os-release {FIXTURES}/debian12/apt arm64")
    assert result.returncode != 0 and result.stdout == ""
    assert "Oracle Linux Server 9.4 (ID=ol) is not supported" in result.stderr
    # The build script stops there too, before touching apt.
    script = bash("scripts/build-libsrtp-openssl.sh --print-sources",
                  env={"PARLEY_OS_RELEASE": f"{FIXTURES}/oraclelinux9/os-release"})
    assert script.returncode != 0 and "not supported" in script.stderr


def test_package_names_follow_the_release():
    assert os_function(f"os_libstdcxx_dev {FIXTURES}/debian12/os-release").stdout.strip() == "libstdc++-12-dev"
    assert os_function(f"os_libstdcxx_dev {FIXTURES}/ubuntu2404-arm64/os-release").stdout.strip() == "libstdc++-13-dev"
    assert os_function(f"os_browser_packages {FIXTURES}/debian12/os-release").stdout.split() == ["chromium", "chromium-driver"]
    ubuntu = os_function(f"os_browser_packages {FIXTURES}/ubuntu2404-arm64/os-release")
    assert ubuntu.returncode == 0 and ubuntu.stdout.strip() == ""


@pytest.mark.parametrize("system,arch,index", [
    ("debian12", "arm64", "http://deb.debian.org/debian/dists/bookworm/main/source/Sources"),
    ("ubuntu2404-arm64", "arm64", "http://ports.ubuntu.com/ubuntu-ports/dists/noble/universe/source/Sources"),
])
def test_apt_reads_the_generated_source_as_the_build_script_writes_it(system, arch, index):
    """The build script's own --print-sources output, written where the script writes it and
    read by this machine's apt: apt names the source index it would download (nothing is fetched)."""
    fixture = os.path.join(FIXTURES, system)
    printed = bash("scripts/build-libsrtp-openssl.sh --print-sources", env={
        "PARLEY_OS_RELEASE": f"{fixture}/os-release", "PARLEY_APT_ETC": f"{fixture}/apt", "PARLEY_ARCH": arch})
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == deb_src(system, arch)
    work = tempfile.mkdtemp(prefix="parley-apt-")
    os.makedirs(os.path.join(work, "parts"))
    os.makedirs(os.path.join(work, "lists", "partial"))
    with open(os.path.join(work, "parts", "libsrtp2-source.sources"), "w") as handle:
        handle.write(printed.stdout)
    uris = subprocess.run(["apt-get", "-o", "Dir::Etc::SourceList=/dev/null", "-o", f"Dir::Etc::SourceParts={work}/parts",
                           "-o", f"Dir::State::Lists={work}/lists", "--print-uris", "update"],
                          capture_output=True, text=True, timeout=60)
    assert uris.returncode == 0, uris.stderr
    assert index in uris.stdout, uris.stdout


def test_a_failed_openssl_libsrtp_build_warns_loudly_and_can_be_required():
    """ensure_libsrtp_openssl on a system whose source cannot be had (here: an unsupported one)."""
    prefix = os.path.join(tempfile.mkdtemp(prefix="parley-srtp-"), "libsrtp-openssl")
    call = "source scripts/lib.sh; ensure_libsrtp_openssl; echo went-on PKG_CONFIG_PATH=${PKG_CONFIG_PATH:-}"
    env = {"PARLEY_LIBSRTP_PREFIX": prefix, "PARLEY_OS_RELEASE": f"{FIXTURES}/oraclelinux9/os-release",
           "PKG_CONFIG_PATH": ""}
    lenient = bash(call, env=env)
    assert lenient.returncode == 0 and "went-on PKG_CONFIG_PATH=\n" in lenient.stdout, lenient
    assert "warning: building libsrtp2 with OpenSSL failed" in lenient.stderr
    assert "not supported" in lenient.stderr          # the reason, from the build's log
    assert "PARLEY_REQUIRE_OPENSSL_SRTP=1" in lenient.stderr
    strict = bash("set -e; " + call, env=dict(env, PARLEY_REQUIRE_OPENSSL_SRTP="1"))
    assert strict.returncode != 0 and "went-on" not in strict.stdout
    assert "PARLEY_REQUIRE_OPENSSL_SRTP=1, so this is fatal" in strict.stderr
