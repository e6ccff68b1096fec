# shellcheck shell=bash
# Which distribution a machine runs, and the apt sources Parley's scripts derive from it.
# Sourced (by scripts/lib.sh and scripts/build-libsrtp-openssl.sh), not run.
#
# Two distributions are supported: Debian 12 (bookworm: CI, the Docker image) and Ubuntu 24.04
# (noble: the image docs/self-hosting.md uses). Anything else is refused with a message
# naming what was found, instead of a guess that fails later with an apt error.
#
# Every function takes the files it reads as arguments (an os-release file, an apt folder),
# so Tests/e2e/test_ops_os.py can feed them the committed fixtures of both distributions.

# The value of one variable of an os-release file (os-release(5) is shell syntax), empty when unset.
os_release_field() { # NAME [OS_RELEASE]
    local file=${2:-/etc/os-release}
    [ -r "$file" ] || { echo "error: cannot read $file" >&2; return 1; }
    # shellcheck disable=SC1090 # the os-release file named by the caller
    (set +u; . "$file" && eval "printf '%s\n' \"\${$1:-}\"")
}

# "debian" or "ubuntu" (ID in os-release); any other system is an error.
os_id() { # [OS_RELEASE]
    local file=${1:-/etc/os-release} id version
    id=$(os_release_field ID "$file") || return 1
    version=$(os_release_field VERSION_ID "$file")
    case $id in
        debian|ubuntu) echo "$id" ;;
        *)
            echo "error: $(os_release_field PRETTY_NAME "$file") (ID=$id) is not supported: Parley's scripts use apt and" \
                "support Debian 12 and Ubuntu 24.04 only" >&2
            return 1 ;;
    esac
    case $id:$version in
        debian:12|ubuntu:24.04) ;;
        *) echo "warning: $id $version is untested; Parley's scripts are tested on Debian 12 and Ubuntu 24.04" >&2 ;;
    esac
}

# The release's code name (bookworm, noble): the suite in apt's sources.
os_codename() { # [OS_RELEASE]
    local file=${1:-/etc/os-release} codename
    codename=$(os_release_field VERSION_CODENAME "$file") || return 1
    [ -n "$codename" ] || codename=$(os_release_field UBUNTU_CODENAME "$file")
    [ -n "$codename" ] || { echo "error: no VERSION_CODENAME in $file" >&2; return 1; }
    echo "$codename"
}

# The keyring that signs the distribution's archive (in debian-archive-keyring / ubuntu-keyring).
os_archive_keyring() { # ID
    case $1 in
        debian) echo /usr/share/keyrings/debian-archive-keyring.gpg ;;
        ubuntu) echo /usr/share/keyrings/ubuntu-archive-keyring.gpg ;;
        *) return 1 ;;
    esac
}

# The archive's components. Ubuntu keeps libsrtp2 (and caddy, coturn) in universe; Debian in main.
os_archive_components() { # ID
    case $1 in
        debian) echo main ;;
        ubuntu) echo main restricted universe multiverse ;;
        *) return 1 ;;
    esac
}

# The distribution's default mirror when the machine names none. Ubuntu serves amd64 (and i386)
# from archive.ubuntu.com and every other architecture, arm64 included, from ports.ubuntu.com.
os_default_mirror() { # ID ARCH
    case $1:$2 in
        debian:*) echo http://deb.debian.org/debian ;;
        ubuntu:amd64|ubuntu:i386) echo http://archive.ubuntu.com/ubuntu ;;
        ubuntu:*) echo http://ports.ubuntu.com/ubuntu-ports ;;
        *) return 1 ;;
    esac
}

# The mirror this machine's apt already uses for its release (not -security, not a third-party
# repository): the first URI of a deb822 stanza (sources.list.d/*.sources) or one-line entry
# (sources.list, sources.list.d/*.list) whose suites include the release's code name itself.
# Prints nothing when there is none.
apt_configured_mirror() { # APT_ETC_DIR CODENAME
    local etc=$1 codename=$2 file
    for file in "$etc"/sources.list.d/*.sources; do
        [ -f "$file" ] || continue
        # Stanzas are separated by blank lines; a stanza may be switched off with Enabled: no.
        awk -v suite="$codename" '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && enabled != "no" && uris != "") {
                    split(uris, u, " "); print u[1]; found = 1; exit
                }
                types = ""; suites = ""; uris = ""; enabled = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
              if (key == "types") types = $0; else if (key == "suites") suites = $0
              else if (key == "uris") uris = $0; else if (key == "enabled") enabled = tolower($0) }
            END { if (!found) flush() }
        ' "$file" | head -n 1 | grep . && return 0
    done
    for file in "$etc/sources.list" "$etc"/sources.list.d/*.list; do
        [ -f "$file" ] || continue
        # deb [options] URI SUITE COMPONENTS...
        sed -E 's/\[[^]]*\]//' "$file" | awk -v suite="$codename" '$1 == "deb" && $3 == suite { print $2; exit }' \
            | head -n 1 | grep . && return 0
    done
    return 0
}

# The deb822 apt source (for a SourceParts folder of its own) from which `apt-get source
# libsrtp2` fetches the distribution's libsrtp2 source package: the machine's own mirror (or
# the distribution's default), its release and that release's updates, the components that
# hold libsrtp2, signed by the distribution's archive keyring.
libsrtp_deb_src() { # OS_RELEASE APT_ETC_DIR ARCH
    local os_release=$1 etc=$2 arch=$3 id codename mirror
    id=$(os_id "$os_release") || return 1
    codename=$(os_codename "$os_release") || return 1
    mirror=$(apt_configured_mirror "$etc" "$codename")
    [ -n "$mirror" ] || mirror=$(os_default_mirror "$id" "$arch")
    printf 'Types: deb-src\nURIs: %s\nSuites: %s %s-updates\nComponents: %s\nSigned-By: %s\n' \
        "${mirror%/}" "$codename" "$codename" "$(os_archive_components "$id")" "$(os_archive_keyring "$id")"
}

# The libstdc++ headers Swift's clang needs: those of the release's default GCC (it picks
# the newest GCC installed, so these must match it).
os_libstdcxx_dev() { # [OS_RELEASE]
    case $(os_id "${1:-/etc/os-release}") in
        debian) echo libstdc++-12-dev ;;
        ubuntu) echo libstdc++-13-dev ;;
        *) return 1 ;;
    esac
}

# The packages of the browser tests (Chromium and its WebDriver). Debian ships them as debs;
# Ubuntu's `chromium` and `chromium-driver` are only transitional packages that install the
# snap, which needs snapd and puts the browser outside /usr/bin where the tests look: none
# there, and scripts/test leaves those tests out with a warning.
os_browser_packages() { # [OS_RELEASE]
    case $(os_id "${1:-/etc/os-release}") in
        debian) echo chromium chromium-driver ;;
        ubuntu) ;;
        *) return 1 ;;
    esac
}
