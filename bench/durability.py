"""What `sync_interval: always` costs: publish rates of a three-node JetStream cluster, R3 stream.

Jepsen's analysis of NATS 2.12.1 shows acknowledged messages lost on coordinated power loss when
the servers fsync on a timer (the default every 2 minutes; our cluster.conf: 10 s). This bench
runs the cluster twice on this machine — once per setting — and publishes the same messages the
way the outbox relay does (a batch of `publish_async`, acks awaited together) and one at a time
(a command's latency when a service relays a single event).

    .venv/bin/python bench/durability.py [--messages 20000] [--batch 500] [--size 700]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import nats
from nats.js.api import StorageType

from mentornet_spine.natsserver import NatsCluster


async def ready(servers: list[str]) -> nats.NATS:
    nc = await nats.connect(servers=servers)
    js = nc.jetstream()
    deadline = time.monotonic() + 60
    while True:
        try:
            await js.add_stream(name="BENCH", subjects=["bench.>"], num_replicas=3, storage=StorageType.FILE)
            return nc
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.25)


async def measure(servers: list[str], messages: int, batch: int, size: int) -> tuple[float, float, float]:
    """(batched msg/s, one-at-a-time msg/s, one-at-a-time median latency ms)."""
    nc = await ready(servers)
    js = nc.jetstream()
    body = b"x" * size
    began = time.perf_counter()
    for start in range(0, messages, batch):
        acks = [
            await js.publish_async("bench.e", body, headers={"Nats-Msg-Id": uuid.uuid4().hex})
            for _ in range(min(batch, messages - start))
        ]
        await asyncio.gather(*acks)
    batched = messages / (time.perf_counter() - began)
    single = max(200, messages // 20)
    latencies = []
    began = time.perf_counter()
    for _ in range(single):
        t = time.perf_counter()
        await js.publish("bench.s", body, headers={"Nats-Msg-Id": uuid.uuid4().hex})
        latencies.append(time.perf_counter() - t)
    one_by_one = single / (time.perf_counter() - began)
    await nc.close()
    return batched, one_by_one, statistics.median(latencies) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--size", type=int, default=700, help="bytes per message (an envelope is ~0.7 KB)")
    args = parser.parse_args()
    host = f"{platform.node()}: {platform.machine()}, Python {platform.python_version()}"
    print(f"{host}; three nodes on one host")
    print(f"{args.messages} messages of {args.size} B, batches of {args.batch}; R3 file stream\n")
    rows = []
    for setting in ("10s", "always"):
        with tempfile.TemporaryDirectory() as base:
            nodes = NatsCluster(Path(base), sync_interval=setting)
            await nodes.start()
            try:
                rows.append((setting, *await measure(nodes.servers, args.messages, args.batch, args.size)))
            finally:
                nodes.stop()
    print(f"{'sync_interval':<14}{'batched msg/s':>15}{'one-by-one msg/s':>18}{'median ms':>11}")
    for setting, batched, single, median in rows:
        print(f"{setting:<14}{batched:>15,.0f}{single:>18,.0f}{median:>11.2f}")
    base_rate = rows[0][1]
    print(f"\nalways / 10s, batched: {rows[1][1] / base_rate:.2f}; one by one: {rows[1][2] / rows[0][2]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
