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

# The C libraries the build links (OpenSSL, libsrtp2, Opus, SQLite) and pkg-config to find them.
BUILD_PACKAGES=(libssl-dev libsrtp2-dev libopus-dev libsqlite3-dev pkg-config)

# Swift must be on PATH; the machines here have it in /opt/swift.
ensure_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        for dir in /opt/swift/usr/bin /opt/swift/bin; do
            [ -x "$dir/swift" ] && export PATH="$dir:$PATH"
        done
    fi
    command -v swift >/dev/null 2>&1 || { echo "swift not found: install Swift 6 (https://swift.org/install)"; exit 1; }
}
