#!/usr/bin/env bash
# Builds libsrtp2 from the distribution's own source package (Debian 12 or Ubuntu 24.04) with
# OpenSSL as its crypto backend, as a static library under a prefix, for Parley to link instead
# of the distribution's NSS-based binary.
#
# Why: Debian's and Ubuntu's libsrtp2 use NSS, whose AES_CM_128_HMAC_SHA1_80 path is about 4x
# slower than libsrtp on OpenSSL (BENCHMARKS.md, "Media transport: SRTP"). The build takes seconds.
#
# Usage:  scripts/build-libsrtp-openssl.sh [PREFIX]     (default: .build-deps/libsrtp-openssl)
#         scripts/build-libsrtp-openssl.sh --print-sources
#                                   (the deb-src apt source it would use, and nothing else)
# Then build with the printed PKG_CONFIG_PATH, e.g.
#   export PKG_CONFIG_PATH="$PWD/.build-deps/libsrtp-openssl/lib/pkgconfig"
#   swift build -c release
# SwiftPM's CSRTP target finds it through pkg-config "libsrtp2"; only a static archive
# (libsrtp2-openssl.a) is installed, so the executable carries it and needs nothing at run time. Running the script
# again with an existing build is a no-op. Needs: apt-get, dpkg-dev (dpkg-source), a C compiler, make,
# libssl-dev and network access to the distribution's mirror. Touches no system apt configuration:
# the deb-src source (scripts/os.sh, libsrtp_deb_src: the machine's own mirror, the release's
# components, the distribution's archive keyring) and its index live in a temporary folder.
# Any failure exits non-zero with the reason; scripts/lib.sh decides whether to go on without it.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# The distribution, release and mirror this machine already uses (PARLEY_OS_RELEASE and
# PARLEY_APT_ETC, PARLEY_ARCH only for tests of other systems' files).
source "$repo/scripts/os.sh"
os_release=${PARLEY_OS_RELEASE:-/etc/os-release}
apt_etc=${PARLEY_APT_ETC:-/etc/apt}
sources=$(libsrtp_deb_src "$os_release" "$apt_etc" "${PARLEY_ARCH:-$(dpkg --print-architecture)}")
if [ "${1:-}" = --print-sources ]; then printf '%s\n' "$sources"; exit 0; fi
keyring=$(sed -n 's/^Signed-By: //p' <<<"$sources")
[ -r "$keyring" ] || { echo "error: the archive keyring $keyring is missing (package $( [ "$(os_id "$os_release")" = ubuntu ] && echo ubuntu-keyring || echo debian-archive-keyring))" >&2; exit 1; }

prefix=${1:-$repo/.build-deps/libsrtp-openssl}
case $prefix in /*) ;; *) prefix=$PWD/$prefix ;; esac

if [ -f "$prefix/lib/libsrtp2-openssl.a" ] && [ -f "$prefix/lib/pkgconfig/libsrtp2.pc" ]; then
    echo "libsrtp2 (OpenSSL) already in $prefix"
    echo "export PKG_CONFIG_PATH=\"$prefix/lib/pkgconfig\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}\""
    exit 0
fi

for tool in apt-get dpkg-source make pkg-config; do
    command -v "$tool" >/dev/null || { echo "error: $tool is required (packages dpkg-dev make pkg-config)" >&2; exit 1; }
done
# Any C compiler: gcc, or the clang that comes with Swift.
if [ -z "${CC:-}" ]; then
    for compiler in gcc cc clang; do
        if command -v "$compiler" >/dev/null; then export CC=$compiler; break; fi
    done
fi
[ -n "${CC:-}" ] || { echo "error: a C compiler is required (package gcc)" >&2; exit 1; }
pkg-config --exists openssl || { echo "error: libssl-dev is required" >&2; exit 1; }

work=$(mktemp -d /tmp/libsrtp-openssl.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src" "$work/sources.list.d"
printf '%s\n' "$sources" > "$work/sources.list.d/libsrtp2-source.sources"
apt=(apt-get -qq -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/sources.list.d"
     -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)

echo "fetching the libsrtp2 source package from: $(tr '\n' ' ' <<<"$sources")"
"${apt[@]}" update
if (cd "$work/src" && "${apt[@]}" source libsrtp2 >"$work/apt-source.log" 2>&1); then
    source_dir=$(find "$work/src" -maxdepth 1 -mindepth 1 -type d -name 'libsrtp2-*' | head -n 1)
else
    # A mirror that serves the upstream tarball but not the .dsc or the packaging (seen with
    # partial mirrors and caches): build the source package's own upstream tarball, checked
    # against the SHA-256/512 of apt's signed index. The library is the same: the distribution's
    # patches (debian/patches: test alignment, verbose test scripts, README) touch no library code.
    cat "$work/apt-source.log" >&2
    echo "apt-get source libsrtp2 failed; trying the source package's upstream tarball alone" >&2
    # (in an empty folder: --print-uris leaves out files already downloaded)
    mkdir "$work/uris"
    orig=$(cd "$work/uris" && "${apt[@]}" --print-uris source libsrtp2 | grep -E "\.orig\.tar\.[a-z0-9]+' " | head -n 1 || true)
    [ -n "$orig" ] || { echo "error: the index names no upstream tarball for libsrtp2" >&2; exit 1; }
    read -r url file _ hash <<<"$orig"
    url=${url//\'/}
    [[ $hash == SHA256:* || $hash == SHA512:* ]] || { echo "error: no SHA-256/512 for $file in the index" >&2; exit 1; }
    /usr/lib/apt/apt-helper -qq download-file "$url" "$work/src/$file" "$hash" >&2 \
        || { echo "error: downloading $url failed (or its hash differs from the index)" >&2; exit 1; }
    mkdir "$work/src/upstream"
    tar -xf "$work/src/$file" -C "$work/src/upstream"
    source_dir=$(find "$work/src/upstream" -maxdepth 1 -mindepth 1 -type d | head -n 1)
fi
[ -n "$source_dir" ] && [ -x "$source_dir/configure" ] || { echo "error: no libsrtp2 source tree with a configure script" >&2; exit 1; }

echo "building $(basename "$source_dir") with --enable-openssl into $prefix"
cd "$source_dir"
# Debian's optimisation flags (debian/rules), OpenSSL instead of NSS, position-independent code
# so the archive links into any executable.
./configure --prefix="$prefix" --enable-openssl --disable-debug-logging \
    CFLAGS="-O3 -fPIC -D_REENTRANT -funroll-loops" >/dev/null
make -j"$(nproc)" libsrtp2.a >/dev/null
make install >/dev/null
# Static only, under its own name: SwiftPM puts Debian's -L/usr/lib/<arch> before ours, so a
# plain -lsrtp2 would still find Debian's libsrtp2.so. Nothing is needed at run time.
rm -f "$prefix"/lib/libsrtp2.so*
mv "$prefix/lib/libsrtp2.a" "$prefix/lib/libsrtp2-openssl.a"
# pkg-config --libs (what SwiftPM asks) names the archive and the libcrypto it needs.
sed -i 's|^Libs: .*|Libs: -L${libdir} -lsrtp2-openssl -lcrypto|' "$prefix/lib/pkgconfig/libsrtp2.pc"

PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --modversion libsrtp2 >/dev/null
echo "installed: $prefix/lib/libsrtp2-openssl.a (libsrtp $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --modversion libsrtp2), OpenSSL backend)"
echo "export PKG_CONFIG_PATH=\"$prefix/lib/pkgconfig\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}\""
