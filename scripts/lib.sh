# Shared helpers for scripts/run and scripts/test. Sourced, not run.

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages named, skipping those already installed.
ensure_debian_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "==> installing Debian packages: ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

# What Swift itself needs on Debian 12 (swift.org's list), the C libraries the build links
# (OpenSSL, libsrtp2, Opus, SQLite) and pkg-config to find them.
BUILD_PACKAGES=(git ca-certificates curl binutils gcc libc6-dev libstdc++-12-dev libcurl4-openssl-dev libxml2-dev
    zlib1g-dev tzdata libssl-dev libsrtp2-dev libopus-dev libsqlite3-dev pkg-config)

# A virtual environment for the Python test peers (aioice, aiortc, schemathesis, selenium):
# Debian's own python3 refuses system-wide pip installs (PEP 668). Its bin/ goes first on PATH,
# so the tests' `python3` is the one with the packages.
ensure_python_env() {
    local venv="$1" requirements="$2"
    if [ ! -x "$venv/bin/python3" ]; then
        python3 -m venv "$venv"
    fi
    PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python3" -m pip install -q -r "$requirements"
    export PATH="$venv/bin:$PATH"
}

# Swift must be on PATH; the machines here have it in /opt/swift.
ensure_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        for dir in /opt/swift/usr/bin /opt/swift/bin; do
            [ -x "$dir/swift" ] && export PATH="$dir:$PATH"
        done
    fi
    command -v swift >/dev/null 2>&1 || { echo "swift not found: install Swift 6 (https://swift.org/install)"; exit 1; }
}

# libsrtp2 built against OpenSSL from Debian's own source package (seconds): its AES-CM path
# is about 4.8x and its GCM path about 2.2x faster than Debian's NSS build (BENCHMARKS.md).
# Falls back to Debian's libsrtp2 if the source cannot be fetched.
ensure_libsrtp_openssl() {
    ensure_debian_packages dpkg-dev make gcc
    if scripts/build-libsrtp-openssl.sh >/dev/null; then
        export PKG_CONFIG_PATH="$PWD/.build-deps/libsrtp-openssl/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
        echo "==> libsrtp2 built with OpenSSL"
    else
        echo "warning: using Debian's libsrtp2 (NSS, slower SRTP)" >&2
    fi
}
