"""CPU per request of the two HTTP clients the project could use for its simulator: httpx and aiohttp.

A FastAPI endpoint on uvicorn in a child process answers a small JSON POST; this process sends
``--requests`` of them one after another with each client and prints its own CPU per request
(process time, so the server's share is not counted). The simulator shares the machine with the
system it drives, so its client's CPU is taken from the services.

    .venv/bin/python bench/http_client.py
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent  # bench/registry.py etc. would shadow the service packages
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import aiohttp  # noqa: E402
import httpx  # noqa: E402

from mentornet_spine.natsserver import free_port, wait_for_port  # noqa: E402

SERVER = """
import sys, uvicorn
from fastapi import FastAPI
app = FastAPI()
@app.post("/x")
async def x(body: dict) -> dict:
    return {"ok": True, "id": "0192"}
uvicorn.run(app, port=int(sys.argv[1]), log_level="error", access_log=False)
"""


async def with_httpx(url: str, n: int) -> float:
    async with httpx.AsyncClient(base_url=url) as client:
        began = time.process_time()
        for i in range(n):
            (await client.post("/x", json={"a": i}, headers={"Authorization": "Bearer t"})).json()
        return (time.process_time() - began) / n


async def with_aiohttp(url: str, n: int) -> float:
    async with aiohttp.ClientSession(url) as session:
        began = time.process_time()
        for i in range(n):
            async with session.post("/x", json={"a": i}, headers={"Authorization": "Bearer t"}) as answer:
                await answer.json()
        return (time.process_time() - began) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    try:
        wait_for_port(port)
        url = f"http://127.0.0.1:{port}"
        asyncio.run(with_httpx(url, 50))  # warm both up (imports, first connection)
        asyncio.run(with_aiohttp(url, 50))
        h = asyncio.run(with_httpx(url, args.requests))
        a = asyncio.run(with_aiohttp(url, args.requests))
        print(f"httpx   {h * 1000:.3f} ms CPU per request")
        print(f"aiohttp {a * 1000:.3f} ms CPU per request ({a / h:.2f} × httpx)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
