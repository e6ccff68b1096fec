# syntax=docker/dockerfile:1
# Parley in a container: a Swift builder stage and a small Debian runtime.
#
#   docker build -t parley .
#   docker run --rm -p 8080:8080 -p 7882:7882/udp -p 7882:7882/tcp \
#       -e RTC_PUBLIC_IP=<this host's public address> -v parley-data:/var/lib/parley parley
#
# compose.yaml runs it with PostgreSQL, coturn and (optionally) Caddy. Builds natively on
# amd64 and arm64 (Oracle Cloud's Ampere A1): both base images are multi-arch.

ARG SWIFT_VERSION=6.3

# --- build ------------------------------------------------------------------------------
FROM swift:${SWIFT_VERSION}-bookworm AS build
# The C libraries Parley links (README "The two commands"): OpenSSL (DTLS), Opus, SQLite and
# pkg-config; dpkg-dev, make and gcc build libsrtp2 against OpenSSL from Debian's own source
# package (scripts/build-libsrtp-openssl.sh; it fails the image build rather than fall back),
# 2-5x faster SRTP than Debian's NSS build.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libssl-dev libsqlite3-dev pkg-config dpkg-dev make gcc ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY scripts/build-libsrtp-openssl.sh scripts/os.sh scripts/
RUN scripts/build-libsrtp-openssl.sh /opt/libsrtp-openssl
ENV PKG_CONFIG_PATH=/opt/libsrtp-openssl/lib/pkgconfig

# The manifest names every target, so the sources and test folders come in together
# (Package.resolved, when present, pins the dependencies).
COPY Package.* ./
COPY Plugins Plugins
COPY Sources Sources
COPY Tests Tests
# The web client and the OpenAPI document are compiled into the binary (the EmbedFiles plugin).
COPY web web
# The Swift runtime is linked in (--static-swift-stdlib), so the runtime image needs no
# toolchain; the package cache is kept between builds by BuildKit.
RUN --mount=type=cache,target=/src/.build \
    swift build -c release --product parley --static-swift-stdlib \
 && install -D -m 0755 .build/release/parley /out/parley

# --- runtime ----------------------------------------------------------------------------
FROM debian:bookworm-slim
# What the binary still links dynamically (ldd): OpenSSL, Opus, libstdc++ and libcurl
# (Foundation's networking); curl itself for the health check.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libssl3 libstdc++6 libcurl4 ca-certificates tzdata curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/parley --shell /usr/sbin/nologin parley \
 && install -d -o parley -g parley -m 0750 /var/lib/parley

# The binary is the whole server: the web client and /openapi.yaml are compiled into it.
COPY --from=build /out/parley /usr/local/bin/parley

# README "Configuration"; everything else (DATABASE_URL, JWT_SIGNING_KEY, RTC_PUBLIC_IP,
# TURN_SECRET, ICE_*_URLS, ...) comes from `docker run -e` or compose's env file.
ENV HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/var/lib/parley \
    RTC_UDP_PORT=7882

USER parley
WORKDIR /var/lib/parley
VOLUME ["/var/lib/parley"]
# HTTP + WebSocket; media on one UDP port, and passive ICE-TCP on the same TCP port number.
EXPOSE 8080/tcp 7882/udp 7882/tcp
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/parley"]
CMD ["serve"]
