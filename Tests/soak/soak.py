#!/usr/bin/env python3
"""A soak run: chat and calls going on for MINUTES against one installed Parley process,
while its resident memory, open file descriptors, threads and live-object gauges are sampled.
After a warm-up the samples must stay flat; at the end, with everyone gone, the media engine
must hold nothing and every WebSocket must be closed.

    scripts/soak [MINUTES]        (or: python3 Tests/soak/soak.py --minutes M)

Load, all on loopback (the server runs as shipped: Tests/e2e/parley_server.py):
- chat: two groups of three, each member sending a message about every 0.7 s over its
  WebSocket with typing and read marks, one sender over REST, history read back by page;
- connection churn: a WebSocket opened, authenticated and closed every 0.3 s;
- calls: three aiortc participants in a group call, each joining, publishing audio and video,
  staying 3-7 s and leaving, over and over, so someone joins or leaves every few seconds.

Every 5 s: VmRSS and Threads from /proc/PID/status, the entries of /proc/PID/fd, and
`parley_media_live_objects`, `parley_ws_connections`, `parley_ws_queued_frames` from /metrics.
Samples go to artifacts/soak.csv; the summary gives each series' slope after warm-up (least
squares, per minute). Fails (exit 1) when resident memory grows faster than --max-rss-slope
MiB/min after warm-up, when descriptors or threads at the end exceed what they were after
warm-up by more than a few, or when a live-object count or a WebSocket is left at the end.
"""
import argparse
import asyncio
import csv
import json
import os
import random
import sys
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import websockets  # noqa: E402

from call_peer import CallPeer  # noqa: E402
from parley_server import ARTIFACTS, Server  # noqa: E402

FREQUENCIES = [440.0, 660.0, 880.0]
SHADES = [60, 120, 180]


def metrics(server):
    with urllib.request.urlopen(server.url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        values[name] = float(value)
    return values


def sample(server, started):
    pid = server.process.pid
    status = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            status[key] = value.strip()
    values = metrics(server)
    live = {name.split('"')[1]: value for name, value in values.items() if name.startswith("parley_media_live_objects{")}
    return {
        "seconds": round(time.monotonic() - started, 1),
        "rss_kib": int(status["VmRSS"].split()[0]),
        "threads": int(status["Threads"]),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        **{key: values[name] for key, name in (("ws_connections", "parley_ws_connections"),
                                               ("ws_queued_frames", "parley_ws_queued_frames")) if name in values},
        "calls": values.get("parley_calls", 0),
        **{f"live_{kind}": count for kind, count in sorted(live.items())},
    }


def slope_per_minute(points):
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 3:
        return 0.0
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    denominator = sum((x - mean_x) ** 2 for x, _ in points)
    return 60 * sum((x - mean_x) * (y - mean_y) for x, y in points) / denominator if denominator else 0.0


async def chat_member(server, token, conversation, stop, counts):
    async with websockets.connect(server.ws_url, max_size=2 ** 22) as socket:
        await socket.send(json.dumps({"type": "auth", "data": {"token": token}}))
        reader = asyncio.ensure_future(drain(socket, counts))
        await socket.send(json.dumps({"type": "room.join", "data": {"conversationId": conversation}}))
        index = 0
        while not stop.is_set():
            await socket.send(json.dumps({"type": "typing.start", "data": {"conversationId": conversation}}))
            await asyncio.sleep(random.uniform(0.2, 0.6))
            await socket.send(json.dumps({"type": "message.send", "id": str(index), "data": {
                "conversationId": conversation, "content": f"soak {index} " + "x" * random.randint(0, 400),
                "clientMsgId": uuid.uuid4().hex}}))
            index += 1
            await asyncio.sleep(random.uniform(0.1, 0.4))
        reader.cancel()


async def drain(socket, counts):
    try:
        async for text in socket:
            frame = json.loads(text)
            counts[frame["type"]] = counts.get(frame["type"], 0) + 1
            if frame["type"] == "message.new":
                message = frame["data"]["message"]
                await socket.send(json.dumps({"type": "read", "data": {
                    "conversationId": message["conversationId"], "messageId": message["id"]}}))
    except (websockets.ConnectionClosed, asyncio.CancelledError):
        pass


async def rest_sender(server, token, conversation, stop, counts):
    while not stop.is_set():
        status, _ = await asyncio.to_thread(server.call, "POST", f"/conversations/{conversation}/messages",
                                            {"content": "over REST", "clientMsgId": uuid.uuid4().hex}, token)
        counts[f"rest {status}"] = counts.get(f"rest {status}", 0) + 1
        status, _ = await asyncio.to_thread(server.call, "GET", f"/conversations/{conversation}/messages?limit=50",
                                            None, token)
        await asyncio.sleep(1.0)


async def churn(server, token, stop, counts):
    while not stop.is_set():
        try:
            async with websockets.connect(server.ws_url) as socket:
                await socket.send(json.dumps({"type": "auth", "data": {"token": token}}))
                await socket.recv()
                counts["churned"] = counts.get("churned", 0) + 1
        except (OSError, websockets.WebSocketException):
            counts["churn failed"] = counts.get("churn failed", 0) + 1
        await asyncio.sleep(0.3)


async def call_participant(server, index, user, conversation, stop, counts):
    user_id, token = user
    await asyncio.sleep(index * 1.5)
    while not stop.is_set():
        peer = CallPeer(f"P{index}", server.ws_url, token, user_id)
        try:
            await peer.connect()
            await peer.join(conversation)
            await peer.publish(FREQUENCIES[index], SHADES[index])
            counts["call joins"] = counts.get("call joins", 0) + 1
            await asyncio.sleep(random.uniform(3, 7))
            await peer.send("call.leave", {"conversationId": conversation})
        except (AssertionError, OSError, websockets.WebSocketException) as error:
            counts["call errors"] = counts.get("call errors", 0) + 1
            print(f"call participant {index}: {error}", file=sys.stderr)
        finally:
            try:
                await peer.close()
            except Exception:  # noqa: BLE001 (a half-open peer; the server side is what is measured)
                pass
        await asyncio.sleep(random.uniform(0.5, 2))


async def soak(server, minutes, samples):
    users = [server.sign_up(f"Soak{index}") for index in range(9)]
    conversations = []
    for first in (0, 3, 6):
        status, group = server.call("POST", "/conversations", {"kind": "group", "title": f"Soak {first}",
                                                               "memberIds": [users[first + 1][0], users[first + 2][0]]},
                                    users[first][1])
        assert status == 201, group
        conversations.append(group["id"])
    stop = asyncio.Event()
    counts = {}
    tasks = [asyncio.ensure_future(chat_member(server, users[i][1], conversations[i // 3], stop, counts)) for i in range(6)]
    tasks.append(asyncio.ensure_future(rest_sender(server, users[0][1], conversations[0], stop, counts)))
    tasks.append(asyncio.ensure_future(churn(server, users[1][1], stop, counts)))
    tasks += [asyncio.ensure_future(call_participant(server, i, users[6 + i], conversations[2], stop, counts)) for i in range(3)]
    started = time.monotonic()
    deadline = started + minutes * 60
    while time.monotonic() < deadline:
        samples.append(await asyncio.to_thread(sample, server, started))
        row = samples[-1]
        print(f"{row['seconds']:7.1f} s  rss {row['rss_kib'] / 1024:7.1f} MiB  fds {row['fds']:4d}  threads {row['threads']:3d}  "
              f"ws {row.get('ws_connections', -1):4.0f}  queued {row.get('ws_queued_frames', -1):4.0f}  calls {row['calls']:.0f}  "
              f"transports {row.get('live_transports', 0):.0f}", flush=True)
        await asyncio.sleep(5)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
    # Everyone has gone: give the server a moment to tear down, then the final sample.
    for _ in range(40):
        await asyncio.sleep(0.5)
        final = await asyncio.to_thread(sample, server, started)
        if final.get("ws_connections") == 0 and all(v == 0 for k, v in final.items() if k.startswith("live_")):
            break
    samples.append(final)
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--port", type=int, default=18570)
    parser.add_argument("--warmup", type=float, default=None, help="seconds left out of the slopes (default: a quarter, at least 30)")
    parser.add_argument("--max-rss-slope", type=float, default=4.0, help="MiB per minute after warm-up")
    options = parser.parse_args()
    warmup = options.warmup if options.warmup is not None else max(30.0, options.minutes * 15)
    server = Server("soak", options.port, {"RTC_PUBLIC_IP": "127.0.0.1", "RATE_MESSAGES": "off", "WS_MAX_PER_USER": "off"})
    samples = []
    try:
        counts = asyncio.run(soak(server, options.minutes, samples))
        alive = server.process.poll() is None
    finally:
        server.stop()
    path = os.path.join(ARTIFACTS, "soak.csv")
    keys = sorted({key for row in samples for key in row}, key=lambda k: (k != "seconds", k))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys)
        writer.writeheader()
        writer.writerows(samples)

    steady = [row for row in samples[:-1] if row["seconds"] >= warmup]
    final, first = samples[-1], (steady[0] if steady else samples[0])
    rss_slope = slope_per_minute([(row["seconds"], row["rss_kib"] / 1024) for row in steady])
    fd_slope = slope_per_minute([(row["seconds"], row["fds"]) for row in steady])
    thread_slope = slope_per_minute([(row["seconds"], row["threads"]) for row in steady])
    print(f"\nsoak: {options.minutes} min, {len(samples)} samples, warm-up {warmup:.0f} s; load: "
          + ", ".join(f"{key} {value}" for key, value in sorted(counts.items())))
    print(f"after warm-up: rss {first['rss_kib'] / 1024:.1f} -> {max(r['rss_kib'] for r in steady) / 1024 if steady else 0:.1f} MiB "
          f"(max), slope {rss_slope:+.2f} MiB/min; fds slope {fd_slope:+.2f}/min; threads slope {thread_slope:+.2f}/min")
    print(f"at the end: rss {final['rss_kib'] / 1024:.1f} MiB, fds {final['fds']} (after warm-up {first['fds']}), "
          f"threads {final['threads']} (after warm-up {first['threads']}), ws {final.get('ws_connections', -1):.0f}, "
          + ", ".join(f"{k} {v:.0f}" for k, v in final.items() if k.startswith("live_")))
    print(f"samples: {path}")
    failures = []
    if not alive:
        failures.append("the server exited during the soak")
    if len(steady) >= 3 and rss_slope > options.max_rss_slope:
        failures.append(f"resident memory grows {rss_slope:.2f} MiB/min after warm-up (limit {options.max_rss_slope})")
    if final["fds"] > first["fds"] + 4:
        failures.append(f"file descriptors grew from {first['fds']} to {final['fds']}")
    if final["threads"] > first["threads"] + 4:
        failures.append(f"threads grew from {first['threads']} to {final['threads']}")
    left = {k: v for k, v in final.items() if k.startswith("live_") and v}
    if left:
        failures.append(f"the media engine still holds {left} with no call")
    if final.get("ws_connections", 0):
        failures.append(f"{final['ws_connections']:.0f} WebSockets still counted open")
    missing = [name for name in ("live_transports", "live_tracks", "live_layers", "live_srtp_streams", "ws_connections",
                                 "ws_queued_frames") if not any(name in row for row in samples[1:])]
    if missing or not any(row.get("live_transports") for row in samples):
        failures.append(f"/metrics did not report the live-object gauges under load: missing {missing}")
    if not counts.get("call joins") or not counts.get("message.new"):
        failures.append(f"the load did not run: {counts}")
    for failure in failures:
        print(f"FAILED: {failure}")
    print("soak: " + ("1 passed, 0 failed" if not failures else "0 passed, 1 failed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
