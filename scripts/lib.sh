# shellcheck shell=bash
# Shared helpers for scripts/run and scripts/test. Sourced, not run.
# Debian 12 and Ubuntu 24.04 (scripts/os.sh refuses anything else).

source "$(dirname "${BASH_SOURCE[0]}")/os.sh"

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian (or Ubuntu) packages named, skipping those already installed.
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

# What Swift itself needs on Debian 12 and Ubuntu 24.04 (swift.org's lists; the libstdc++
# headers of the release's GCC), the C libraries the build links (OpenSSL, libsrtp2, Opus,
# SQLite) and pkg-config to find them.
# shellcheck disable=SC2034 # used by the scripts that source this file
BUILD_PACKAGES=(git ca-certificates curl binutils gcc libc6-dev "$(os_libstdcxx_dev)" libcurl4-openssl-dev libxml2-dev
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

# libsrtp2 built against OpenSSL from the distribution's own source package (seconds): its
# AES-CM path is about 4.8x and its GCM path about 2.2x faster than the NSS build Debian and
# Ubuntu ship (BENCHMARKS.md). When that build fails Parley still works, linked to the
# distribution's libsrtp2, so this warns loudly and goes on; PARLEY_REQUIRE_OPENSSL_SRTP=1
# makes it an error instead (the guide's production build sets it). The build's output is
# kept in .build-deps/libsrtp-openssl.log. PARLEY_LIBSRTP_PREFIX moves the build (tests).
ensure_libsrtp_openssl() {
    local prefix=${PARLEY_LIBSRTP_PREFIX:-$PWD/.build-deps/libsrtp-openssl}
    local log=${prefix%/}.log
    ensure_debian_packages dpkg-dev make gcc libc6-dev
    mkdir -p "$(dirname "$log")"
    if scripts/build-libsrtp-openssl.sh "$prefix" >"$log" 2>&1; then
        export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
        echo "==> libsrtp2 built with OpenSSL"
        return 0
    fi
    {
        echo "################################################################################"
        echo "warning: building libsrtp2 with OpenSSL failed (log: $log):"
        tail -n 5 "$log" | sed 's/^/    /'
        if [ "${PARLEY_REQUIRE_OPENSSL_SRTP:-0}" = 1 ]; then
            echo "error: PARLEY_REQUIRE_OPENSSL_SRTP=1, so this is fatal"
            echo "################################################################################"
        else
            echo "warning: linking the distribution's libsrtp2 (NSS) instead: calls work, SRTP costs"
            echo "         about 2-5x more CPU. Set PARLEY_REQUIRE_OPENSSL_SRTP=1 to make this an error."
            echo "################################################################################"
        fi
    } >&2
    [ "${PARLEY_REQUIRE_OPENSSL_SRTP:-0}" != 1 ]
}

# The release build of the `parley` executable, with the Swift runtime linked in (as the
# Dockerfile builds it): scripts/run, the self-hosting guide and its upgrades all build with
# exactly these flags, so they share one build folder and never rebuild everything because
# the flags changed. Two cores take tens of minutes the first time; later builds are incremental.
build_release() {
    swift build -c release --product parley --static-swift-stdlib
}

# Where Parley keeps its SQLite database, for scripts/backup and scripts/restore: the path of a
# sqlite:// DATABASE_URL (a relative one from the unit's WorkingDirectory, /var/lib/parley), else
# DATA_DIR/parley.db. Arguments: DATABASE_URL (may be empty), DATA_DIR (with ROOT), ROOT.
parley_sqlite_path() {
    local path=${1#sqlite://}
    if [ -z "$1" ] || [ -z "$path" ]; then echo "$2/parley.db"
    elif [ "${path#/}" != "$path" ]; then echo "$3$path"
    else echo "$3/var/lib/parley/$path"; fi
}
