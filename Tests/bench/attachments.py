#!/usr/bin/env python3
"""Attachment throughput: how fast a Parley server with local storage receives uploads and
serves downloads, and what that costs it in memory. CONCURRENCY clients (each its own user, in
DMs with one reader) each upload FILES files of SIZE bytes (announce, PUT to the upload URL,
send a message with it) and then download them all; bytes are generated and read in 1 MiB
pieces, so the client holds no file whole. All uploads run first, then all downloads. Prints
MiB/s up and down, announce-to-sent latency, and the server's resident memory before, at its
peak during each phase (VmHWM, reset between them) and after.

    PARLEY_BIN=.build/release/parley .venv-test/bin/python Tests/bench/attachments.py \
        [--concurrency 4] [--files 8] [--size 26214400] [--data /var/tmp/parley-bench-files]

The server runs on loopback with its data (and the files) under --data, which should be on the
disk being measured (not a tmpfs).
"""
import argparse
import concurrent.futures
import http.client
import os
import statistics
import time
import urllib.parse
import urllib.request

from bench_server import call, register, start_server

PIECE = 1 << 20


def memory(pid, field):
    """VmRSS or VmHWM of `pid`, in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def put(url, headers, size):
    """Streams `size` bytes to `url` in 1 MiB pieces over one connection."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    connection.putrequest("PUT", parts.path + "?" + parts.query)
    for name, value in {**headers, "Content-Length": str(size)}.items():
        connection.putheader(name, value)
    connection.endheaders()
    piece, left = os.urandom(PIECE), size
    while left > 0:
        connection.send(piece[:min(left, PIECE)])
        left -= PIECE
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status in (200, 204), response.status


def get(base, path, token):
    """Reads a download in 1 MiB pieces; returns its length."""
    parts = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    assert response.status == 200, response.status
    total = 0
    while piece := response.read(PIECE):
        total += len(piece)
    connection.close()
    return total


def upload_all(base, writer, reader, files, size):
    """One writer uploads and sends `files` files to its DM with `reader`; returns the
    announce-to-sent latencies and the download paths."""
    conversation = call(base, "POST", "/conversations", {"kind": "dm", "userId": reader[0]}, writer[1])["id"]
    latencies, sent = [], []
    for index in range(files):
        began = time.perf_counter()
        announced = call(base, "POST", f"/conversations/{conversation}/attachments",
                         {"name": f"file-{index}.bin", "size": size, "contentType": "application/octet-stream"}, writer[1])
        put(announced["upload"]["url"], announced["upload"]["headers"], size)
        call(base, "POST", f"/conversations/{conversation}/messages",
             {"content": "", "attachmentIds": [announced["attachment"]["id"]]}, writer[1])
        latencies.append(time.perf_counter() - began)
        sent.append(announced["attachment"]["url"])
    return latencies, sent


def reset_peak(pid):
    """Starts VmHWM again from the current RSS (Linux: 5 > /proc/PID/clear_refs)."""
    with open(f"/proc/{pid}/clear_refs", "w") as refs:
        refs.write("5")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--size", type=int, default=25 * 1024 * 1024)
    parser.add_argument("--data", default="/var/tmp/parley-bench-files")
    parser.add_argument("--port", type=int, default=18585)
    options = parser.parse_args()
    server, base = start_server(options.data, options.port, {
        "RATE_UPLOADS": "off", "ATTACHMENT_QUOTA_BYTES": "off", "ATTACHMENT_MAX_BYTES": str(max(options.size, 1))})
    try:
        people = register(base, options.concurrency * 2, "files")
        before = memory(server.pid, "VmRSS")
        reset_peak(server.pid)
        pairs = [(people[2 * i], people[2 * i + 1]) for i in range(options.concurrency)]
        with concurrent.futures.ThreadPoolExecutor(options.concurrency) as pool:
            started = time.perf_counter()
            uploads = list(pool.map(lambda pair: upload_all(base, pair[0], pair[1], options.files, options.size), pairs))
            up = time.perf_counter() - started
            upload_peak = memory(server.pid, "VmHWM")
            reset_peak(server.pid)
            started = time.perf_counter()
            lengths = list(pool.map(lambda job: [get(base, path, job[0][1][1]) for path in job[1][1]], zip(pairs, uploads)))
            down = time.perf_counter() - started
            download_peak = memory(server.pid, "VmHWM")
        assert all(length == options.size for batch in lengths for length in batch)
        after = memory(server.pid, "VmRSS")
        total = options.concurrency * options.files * options.size / (1 << 20)
        latencies = sorted(latency for batch, _ in uploads for latency in batch)
        print(f"{options.concurrency} clients x {options.files} files x {options.size} bytes = {total:.0f} MiB each way")
        print(f"upload:   {total / up:.0f} MiB/s ({up:.2f} s), announce+PUT+send p50 {statistics.median(latencies) * 1000:.0f} ms, "
              f"max {latencies[-1] * 1000:.0f} ms")
        print(f"download: {total / down:.0f} MiB/s ({down:.2f} s)")
        print(f"server RSS: {before:.1f} MiB before, peak {upload_peak:.1f} MiB while uploading, "
              f"peak {download_peak:.1f} MiB while downloading, {after:.1f} MiB after")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
