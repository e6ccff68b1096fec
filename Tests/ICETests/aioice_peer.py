#!/usr/bin/env python3
"""A full ICE agent nobody here wrote (aioice), driven against Parley's ICE-lite agent.

Used by AioiceInteropTests.swift. aioice is the controlling agent; Parley's one host candidate
is its only remote candidate. Prints, one per line:
  LOCAL <host> <port>   aioice's local address of the nominated pair (after connect)
  CONNECTED             connect() succeeded
  ECHO <hex>            the datagram Parley's test handler echoed back
  FAILED <reason>       connect() or the echo failed (exit status 1)
"""
import argparse
import asyncio
import sys

import aioice
import aioice.ice


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ufrag", required=True)
    parser.add_argument("--pwd", required=True)
    parser.add_argument("--send", default="80e0000100000001deadbeef", help="hex datagram to send after connect")
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()

    # aioice leaves 127.0.0.1 out when gathering (docs/testing.md); this test lives on loopback.
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [args.host]

    async def run() -> int:
        # aioice has no ICE-TCP: UDP only (ICE-TCP is tested with a framed Swift client).
        conn = aioice.Connection(ice_controlling=True, components=1, use_ipv4=True, use_ipv6=False)
        try:
            await conn.gather_candidates()
            conn.remote_username = args.ufrag
            conn.remote_password = args.pwd
            conn.remote_is_lite = True
            await conn.add_remote_candidate(aioice.Candidate(
                foundation="1", component=1, transport="udp", priority=2130706431,
                host=args.host, port=args.port, type="host"))
            await conn.add_remote_candidate(None)
            try:
                await asyncio.wait_for(conn.connect(), args.timeout)
            except Exception as exc:  # ConnectionError or timeout
                print(f"FAILED connect {type(exc).__name__}: {exc}", flush=True)
                return 1
            pair = conn._nominated[1]
            print(f"LOCAL {pair.local_candidate.host} {pair.local_candidate.port}", flush=True)
            print("CONNECTED", flush=True)
            await conn.send(bytes.fromhex(args.send))
            try:
                data = await asyncio.wait_for(conn.recv(), 5.0)
            except Exception as exc:
                print(f"FAILED echo {type(exc).__name__}: {exc}", flush=True)
                return 1
            print(f"ECHO {data.hex()}", flush=True)
            return 0
        finally:
            await conn.close()

    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
