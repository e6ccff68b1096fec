#!/usr/bin/env python3
"""Acknowledged sends per second: how many `message.send` frames a Parley server commits and
acknowledges (`message.sent`) per second when CONNECTIONS clients each send their next message
as soon as the previous one is acknowledged, but at most 18 a second (the server closes a
connection that keeps sending over 20 frames a second). With enough connections the offered
load is above what the server commits, so the figure is the server's commit rate (the script
says when it was not). Each client is its own user, in groups of --group-size (small by default, so that the
clients reading every member's `message.new` do not become the bottleneck).

    PARLEY_BIN=.build/release/parley .venv-test/bin/python Tests/bench/acked_sends.py \
        [--connections 100] [--group-size 4] [--duration 10] [--database sqlite|URL] [--data /var/tmp/parley-bench]

The server runs on loopback with its data under --data, which should be on the disk whose
fsync is being measured (not a tmpfs). Prints acknowledged sends per second and the ack
latency p50/p99.
"""
import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import time
import uuid

import websockets

from bench_server import call, register, start_server

PER_CONNECTION = 18  # sends a second at most, under the server's 20 frames a second


async def sender(url, token, conversation, stop_at, latencies):
    async with websockets.connect(url, max_size=2 ** 22) as socket:
        await socket.send(json.dumps({"type": "auth", "data": {"token": token}}))
        while json.loads(await socket.recv())["type"] != "auth.success":
            pass
        count = 0
        while time.monotonic() < stop_at:
            frame_id = uuid.uuid4().hex
            started = time.monotonic()
            await socket.send(json.dumps({"type": "message.send", "id": frame_id, "data": {
                "conversationId": conversation, "content": f"message {count}", "clientMsgId": frame_id}}))
            while True:
                frame = json.loads(await socket.recv())
                if frame.get("id") == frame_id:
                    assert frame["type"] == "message.sent", frame
                    break
            latencies.append(time.monotonic() - started)
            count += 1
            await asyncio.sleep(max(0.0, started + 1 / PER_CONNECTION - time.monotonic()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--data", default="/var/tmp/parley-bench-acked")
    parser.add_argument("--port", type=int, default=18580)
    options = parser.parse_args()
    extra = {"WS_MAX_PER_ADDRESS": "off"}
    if options.database != "sqlite":
        extra["DATABASE_URL"] = options.database
    server, base = start_server(options.data, options.port, extra)
    try:
        users = register(base, options.connections, "bench")
        conversations = []
        for start in range(0, len(users), options.group_size):
            members = users[start:start + options.group_size]
            group = call(base, "POST", "/conversations", {"kind": "group", "title": "Bench",
                                                          "memberIds": [user_id for user_id, _ in members[1:]]}, members[0][1])
            conversations += [group["id"]] * len(members)
        time.sleep(1)  # sign-ups' bcrypt work done before the clock starts
        latencies = []

        async def run():
            stop_at = time.monotonic() + options.duration
            await asyncio.gather(*(sender(f"ws://127.0.0.1:{options.port}/ws", token, conversation, stop_at, latencies)
                                   for (_, token), conversation in zip(users, conversations)))
        started = time.monotonic()
        asyncio.run(run())
        elapsed = time.monotonic() - started
        latencies.sort()
        print(f"{os.environ.get('PARLEY_BIN', '.build/release/parley')}: {options.connections} connections in groups of {options.group_size}, {elapsed:.1f} s: {len(latencies)} acknowledged, "
              f"{len(latencies) / elapsed:.0f} sends/s, ack p50 {statistics.median(latencies) * 1000:.1f} ms, "
              f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms")
        if len(latencies) / elapsed > 0.9 * PER_CONNECTION * options.connections:
            print("note: the clients' pacing, not the server, may have set this figure: add --connections")
    finally:
        server.terminate()
        server.wait(timeout=15)
        shutil.rmtree(options.data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
