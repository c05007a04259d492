"""How far each consumer group of the stack is behind what was produced on its topics.

Produced is the producing service's own count of records Kafka acknowledged (its
`chargegrid_bus_published_total` counter at /metrics), committed is the sum of the group's
committed offsets over the topic's partitions: the embedded broker's end offsets are wrong
(see ../shared/TOOLING.md), so they are never used.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from chargegrid.platform.bus.topics import SESSION_EVENTS, STATION_EVENTS, TRANSACTION_EVENTS

#: Topic -> (the service that produces it, the consumer groups that commit on it). The
#: embedded broker cannot list groups to aiokafka's admin client, so they are named here.
TOPICS: dict[str, tuple[str, tuple[str, ...]]] = {
    TRANSACTION_EVENTS: ("gateway", ("session", "energy")),
    STATION_EVENTS: ("gateway", ("stations", "session", "authorization", "firmware", "energy")),
    SESSION_EVENTS: ("session", ("authorization", "billing", "energy")),
}


def _published(metrics_url: str, topic: str) -> int:
    with urllib.request.urlopen(metrics_url, timeout=5) as reply:
        text = reply.read().decode()
    wanted = f'chargegrid_bus_published_total{{topic="{topic}"}}'
    for line in text.splitlines():
        if line.startswith(wanted):
            return int(float(line.split()[-1]))
    return 0


class LagProbe:
    """One idle client per consumer group (never joins it), asked for committed offsets."""

    def __init__(self, bootstrap: str, metrics: dict[str, str]) -> None:
        self.bootstrap = bootstrap
        #: Service name -> its /metrics URL.
        self.metrics = metrics
        self._clients: dict[str, AIOKafkaConsumer] = {}

    async def __aenter__(self) -> LagProbe:
        for group in sorted({g for _, gs in TOPICS.values() for g in gs}):
            client = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=group)
            await client.start()
            self._clients[group] = client
        return self

    async def __aexit__(self, *_: object) -> None:
        for client in self._clients.values():
            await client.stop()

    async def produced(self) -> dict[str, int]:
        return {
            topic: await asyncio.to_thread(_published, self.metrics[service], topic)
            for topic, (service, _) in TOPICS.items()
        }

    async def committed(self) -> dict[str, int]:
        """ "group@topic" -> the sum of the group's committed offsets on the topic."""
        totals: dict[str, int] = {}
        for group, client in self._clients.items():
            metadata = await client._client.fetch_all_metadata()
            for topic, (_, readers) in TOPICS.items():
                if group in readers:
                    found = sorted(metadata.partitions_for_topic(topic) or set())
                    offsets = [await client.committed(TopicPartition(topic, p)) for p in found]
                    totals[f"{group}@{topic}"] = sum(o for o in offsets if o and o > 0)
        return totals

    async def lag(self) -> dict[str, int]:
        """ "group@topic" -> records produced that the group has not committed."""
        produced, committed = await self.produced(), await self.committed()
        return {
            key: max(0, produced[key.split("@", 1)[1]] - done) for key, done in committed.items()
        }

    async def sample(self, into: dict[str, list[int]], every_s: float = 1.0) -> None:
        """Every `every_s` until cancelled: each group's lag, appended to `into`."""
        while True:
            for key, behind in (await self.lag()).items():
                into.setdefault(key, []).append(behind)
            await asyncio.sleep(every_s)

    async def catch_up(self, ended: float, timeout_s: float) -> dict[str, Any]:
        """Lag when the load ended, and seconds after `ended` until each group had none."""
        at_end = await self.lag()
        caught: dict[str, float] = {k: 0.0 for k, behind in at_end.items() if behind == 0}
        while len(caught) < len(at_end) and time.monotonic() - ended < timeout_s:
            await asyncio.sleep(0.25)
            for key, behind in (await self.lag()).items():
                if behind == 0 and key not in caught:
                    caught[key] = round(time.monotonic() - ended, 2)
        return {
            key: {"lag_at_load_end": behind, "caught_up_after_s": caught.get(key)}
            for key, behind in sorted(at_end.items())
        }

    async def idle(self, timeout_s: float, every_s: float = 0.25) -> float | None:
        """Seconds until no group is behind on two readings in a row (what was produced
        downstream of the last reading has then been published too); None on timeout."""
        started = time.monotonic()
        quiet = 0
        while time.monotonic() - started < timeout_s:
            quiet = quiet + 1 if not any((await self.lag()).values()) else 0
            if quiet >= 2:
                return round(time.monotonic() - started, 2)
            await asyncio.sleep(every_s)
        return None
