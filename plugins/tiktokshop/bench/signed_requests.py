"""Benchmark: time the sandbox takes to serve 1,000 signed requests.

Measured two ways: in process (the ASGI app called directly through httpx's ASGI transport, no
socket: the sandbox's own cost of verifying signature, token and cipher and answering) and over
a loopback socket (SandboxServer, one keep-alive client, sequential).

    .venv/bin/python plugins/tiktokshop/bench/signed_requests.py [--count 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from bridge.sandboxing import SandboxServer
from bridge_tiktokshop import connector, signing

PATH = "/logistics/202309/warehouses"


def signed_params(sb) -> dict[str, str]:
    q = {"app_key": sb.app_key, "timestamp": str(int(time.time())), "shop_cipher": sb.shops()[0]["cipher"]}
    q["sign"] = signing.sign(PATH, q, None, "", sb.app_secret)
    return q


async def in_process(sb, count: int) -> float:
    headers = {"x-tts-access-token": sb.credentials()["access_token"]}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sb.app), base_url="http://sbx") as c:
        t0 = time.perf_counter()
        for _ in range(count):
            r = await c.get(PATH, params=signed_params(sb), headers=headers)
            assert r.json()["code"] == 0, r.text
        return time.perf_counter() - t0


def over_socket(sb, count: int) -> float:
    headers = {"x-tts-access-token": sb.credentials()["access_token"]}
    with SandboxServer(sb.app) as server, httpx.Client(base_url=server.url) as c:
        t0 = time.perf_counter()
        for _ in range(count):
            r = c.get(PATH, params=signed_params(sb), headers=headers)
            assert r.json()["code"] == 0, r.text
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    n = ap.parse_args().count
    sb = connector.sandbox(options={"rate_limit": 0})
    t_proc = asyncio.run(in_process(sb, n))
    t_sock = over_socket(sb, n)
    print(f"{n} signed requests in process: {t_proc:.2f}s ({t_proc / n * 1000:.2f} ms each)")
    print(f"{n} signed requests over loopback: {t_sock:.2f}s ({t_sock / n * 1000:.2f} ms each)")
    print(f"sandbox counted {sb.stats.snapshot()['total']} requests")


if __name__ == "__main__":
    main()
