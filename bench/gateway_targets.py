"""The three servers the gateway benchmark drives, each run as its own process.

- `gateway`: the real ChargeGrid gateway, every frame schema-validated and stored in Kafka
  (acks=all) before the answer;
- `ocpp`: the plain `ocpp` package's documented ChargePoint pattern answering the same
  messages (no Kafka): the baseline the gateway must beat;
- `echo`: a bare websockets server answering every CALL with an empty CALLRESULT after
  parsing it: the ceiling of what Python and websockets can do here;
- `echo_kafka`: the echo plus only what the gateway's contract makes every answered CALL
  cost in Kafka -- two records (the exchange on ocpp.frames.v1, one event the size of a
  MeterValues one), sent with aiokafka's own `send()` as the gateway configures it (acks=all,
  lz4, same linger, same partitioner) and acknowledged before the answer. No envelope, no
  validation, no handler, no metrics: the floor under any gateway built on websockets and
  aiokafka, so its ratio to the echo bounds the gateway's.

Usage: python -m bench.gateway_targets MODE PORT [KAFKA_BOOTSTRAP]; prints READY when up.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection, serve


async def run_echo(port: int) -> None:
    async def answer(ws: ServerConnection) -> None:
        async for raw in ws:
            message = orjson.loads(raw)
            await ws.send(orjson.dumps([3, message[1], {}]).decode())

    async with serve(answer, "127.0.0.1", port, subprotocols=["ocpp1.6"], compression=None):
        print("READY", flush=True)
        await asyncio.Future()


async def run_echo_kafka(port: int, bootstrap: str) -> None:
    from aiokafka import AIOKafkaProducer

    from chargegrid.gateway.runtime import freeze_startup_heap
    from chargegrid.gateway.settings import GatewaySettings
    from chargegrid.platform.bus.partitioner import CachedKeyPartitioner
    from chargegrid.platform.bus.startup import ensure_service_topics
    from chargegrid.platform.bus.topics import OCPP_FRAMES, TRANSACTION_EVENTS

    settings = GatewaySettings(kafka_bootstrap_servers=bootstrap, kafka_topic_partitions=8)
    await ensure_service_topics(settings)
    producer = AIOKafkaProducer(  # as the gateway's EventProducer configures it
        bootstrap_servers=bootstrap,
        acks="all",
        compression_type="lz4",
        linger_ms=settings.kafka_linger_ms,
        partitioner=CachedKeyPartitioner(),
    )
    await producer.start()
    event = bytes(160)  # about the size of a MeterValues TransactionUpdated envelope

    async def answer(ws: ServerConnection) -> None:
        key = (ws.request.path if ws.request else "/unknown").rsplit("/", 1)[-1].encode()
        async for raw in ws:
            message = orjson.loads(raw)
            reply = orjson.dumps([3, message[1], {}])
            exchange = (raw.encode() if isinstance(raw, str) else raw) + reply
            stored = [
                await producer.send(OCPP_FRAMES, exchange, key=key),
                await producer.send(TRANSACTION_EVENTS, event, key=key),
            ]
            for record in stored:
                await record
            await ws.send(reply.decode())

    async with serve(answer, "127.0.0.1", port, subprotocols=["ocpp1.6"], compression=None):
        freeze_startup_heap()
        print("READY", flush=True)
        await asyncio.Future()


async def run_plain_ocpp(port: int) -> None:
    from ocpp.routing import on
    from ocpp.v16 import ChargePoint, call_result
    from ocpp.v16.enums import Action, RegistrationStatus

    class PlainChargePoint(ChargePoint):  # type: ignore[misc]
        @on(Action.boot_notification)  # type: ignore[misc]
        def on_boot(self, **_: Any) -> Any:
            now = datetime.now(UTC).isoformat()
            return call_result.BootNotification(now, 300, RegistrationStatus.accepted)

        @on(Action.meter_values)  # type: ignore[misc]
        def on_meter_values(self, **_: Any) -> Any:
            return call_result.MeterValues()

        @on(Action.heartbeat)  # type: ignore[misc]
        def on_heartbeat(self, **_: Any) -> Any:
            return call_result.Heartbeat(datetime.now(UTC).isoformat())

    async def on_connect(ws: ServerConnection) -> None:
        station_id = ws.request.path.rsplit("/", 1)[-1] if ws.request else "unknown"
        await PlainChargePoint(station_id, ws).start()

    async with serve(on_connect, "127.0.0.1", port, subprotocols=["ocpp1.6"], compression=None):
        print("READY", flush=True)
        await asyncio.Future()


async def run_gateway(port: int, bootstrap: str) -> None:
    from chargegrid.gateway.app import build_fallback, build_routes
    from chargegrid.gateway.clock import Sources
    from chargegrid.gateway.protocol.schemas import warm_up
    from chargegrid.gateway.publishing import GatewayPublisher
    from chargegrid.gateway.registry import ConnectionRegistry
    from chargegrid.gateway.runtime import freeze_startup_heap, raise_open_file_limit
    from chargegrid.gateway.server import GatewayServer
    from chargegrid.gateway.settings import GatewaySettings
    from chargegrid.platform.bus import EnvelopeFactory
    from chargegrid.platform.bus.startup import connect_producer

    settings = GatewaySettings(
        ocpp_host="127.0.0.1",
        ocpp_port=port,
        kafka_bootstrap_servers=bootstrap,
        boot_fallback="accepted",
        max_messages_per_s=100_000,
        kafka_topic_partitions=8,
        ping_interval_s=None,
        require_basic_auth=False,  # anonymous stations, as `make run` allows
    )
    raise_open_file_limit()  # as `python -m chargegrid.gateway` does
    for version, routes in build_routes().items():
        warm_up(version, list(routes))
    producer = await connect_producer(settings)
    sources = Sources()
    server = GatewayServer(
        settings,
        build_routes(),
        GatewayPublisher(producer, EnvelopeFactory("gateway/bench")),
        build_fallback(settings, sources),
        ConnectionRegistry(),
        sources,
    )
    await server.start()
    freeze_startup_heap()  # as `python -m chargegrid.gateway` does once started
    print("READY", flush=True)
    await asyncio.Future()


def main() -> None:
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "echo":
        asyncio.run(run_echo(port))
    elif mode == "echo_kafka":
        from chargegrid.gateway import runtime

        runtime.run(run_echo_kafka(port, sys.argv[3]))
    elif mode == "ocpp":
        asyncio.run(run_plain_ocpp(port))
    elif mode == "gateway":
        from chargegrid.gateway import runtime

        runtime.run(run_gateway(port, sys.argv[3]))  # the loop `python -m chargegrid.gateway` uses
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
