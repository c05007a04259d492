"""The whole roaming service on the embedded broker: an operator adds a partner over gRPC,
the partner registers over real HTTP, a resync pushes locations and tariffs, a station's
status change on station.events.v1 reaches the partner as a PATCH, and status shows it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from chargegrid.api.roaming.v1 import roaming_pb2 as pb
from chargegrid.api.roaming.v1 import roaming_pb2_grpc as pb_grpc
from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.platform.bus import EnvelopeFactory, EventProducer, ProducerConfig
from chargegrid.platform.bus.topics import STATION_EVENTS, default_topic_specs, ensure_topics
from chargegrid.platform.embedded_broker import free_port
from chargegrid.platform.grpc import Role, TokenRegistry, create_channel
from chargegrid.roaming.app import RoamingApp
from chargegrid.roaming.settings import RoamingSettings
from tests.unit.roaming.builders import FakeRegistry, a_site, a_station
from tests.unit.roaming.fakes import FakePartner, RoutingTransport, auth
from tests.unit.roaming.test_tariffs import a_tariff

pytestmark = pytest.mark.broker
FAST_GROUP = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 300, "poll_timeout_ms": 100}


class FakeTariffs:
    async def snapshot(self) -> list[Any]:
        return [a_tariff("T1")]


async def eventually(check: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.1)


async def refusals_change_nothing(stub: Any) -> None:
    refused = [
        (stub.AddPartner(pb.AddPartnerRequest(partner_id="emsp1")), "ALREADY_EXISTS"),
        (stub.AddPartner(pb.AddPartnerRequest(partner_id="x", party_id="toolong")), "INVALID"),
        (stub.AddPartner(pb.AddPartnerRequest(partner_id="y", allowed_modules=["nope"])), "INV"),
        (stub.GetPartner(pb.GetPartnerRequest(partner_id="ghost")), "NOT_FOUND"),
        (stub.Register(pb.RegisterRequest(url="ftp://x", token_a="t", partner_id="z")), "INV"),
        (
            stub.Register(
                pb.RegisterRequest(
                    url="http://emsp.test/ocpi/versions", token_a="bad", partner_id="z"
                )
            ),
            "FAILED_PRECONDITION",
        ),
        (stub.Resync(pb.ResyncRequest(partner_id="ghost")), "NOT_FOUND"),
    ]
    for call, code in refused:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code().name.startswith(code)
    listed = await stub.ListPartners(pb.ListPartnersRequest())
    assert [(p.id, p.status) for p in listed.partners] == [
        ("emsp1", "REGISTERED"),
    ]


async def test_register_resync_and_a_status_change_reach_the_partner(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    await ensure_topics(kafka_bootstrap, default_topic_specs())
    operator = TokenRegistry(tmp_path / "api-tokens.json").add("ops", Role.OPERATOR)
    port = free_port()
    settings = RoamingSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        grpc_host="127.0.0.1",
        grpc_port=0,
        metrics_port=0,
        http_host="127.0.0.1",
        http_port=port,
        public_url=f"http://127.0.0.1:{port}",
        api_tokens_file=tmp_path / "api-tokens.json",
        consumer_group=f"roaming-{uuid.uuid4().hex[:8]}",
        outbox_poll_interval_s=0.1,
        outbox_base_backoff_s=0.1,
    )
    station = f"CS-{uuid.uuid4().hex[:8]}"
    transport = RoutingTransport()
    partner = FakePartner()
    transport.route("emsp.test", partner.app())
    app = RoamingApp(
        settings,
        transport=transport,
        registry=FakeRegistry([a_site("SITE1")], [a_station(station, "SITE1")]),
        tariffs=FakeTariffs(),
        consumer_tuning=FAST_GROUP,
    )
    await app.start()
    channel = create_channel(f"127.0.0.1:{app.grpc_port}", token=operator, max_attempts=1)
    http = httpx.AsyncClient(base_url=settings.public_url)
    partner.client = http
    producer = EventProducer(ProducerConfig(kafka_bootstrap, publish_timeout_s=5))
    await producer.start()
    try:
        stub: Any = pb_grpc.RoamingAdminStub(channel)
        added = await stub.AddPartner(pb.AddPartnerRequest(partner_id="emsp1", name="Fake"))
        assert added.versions_url == f"{settings.public_url}/ocpi/versions"
        registered = await http.post(
            "/ocpi/2.2.1/credentials",
            json=partner.credentials(partner.token_b),
            headers=auth(added.token_a),
        )
        assert registered.status_code == 200, registered.text
        token_c = registered.json()["data"]["token"]
        shown = await stub.GetPartner(pb.GetPartnerRequest(partner_id="emsp1"))
        assert (shown.status, shown.country_code, list(shown.roles)) == (
            "REGISTERED",
            "NL",
            ["EMSP"],
        )
        resync = await stub.Resync(pb.ResyncRequest(partner_id="emsp1"))
        assert resync.pushes == 2  # one location, one tariff

        async def pushed_both() -> None:
            paths = [p for _, p, _ in partner.received]
            assert "locations/DE/CGR/SITE1" in paths
            assert "tariffs/DE/CGR/T1" in paths

        await eventually(pushed_both)
        factory = EnvelopeFactory("gateway/test")
        changed = ev.StatusChanged(evse_id=1, connector_id=1, status=ev.CONNECTOR_STATUS_FAULTED)
        await producer.publish(
            STATION_EVENTS, factory.wrap("station.status_changed", station, changed)
        )

        async def patched() -> None:
            patches = [b for m, p, b in partner.received if m == "PATCH"]
            assert patches, "no PATCH yet"
            assert patches[0]["status"] == "OUTOFORDER"

        await eventually(patched)
        evse = await http.get(f"/ocpi/2.2.1/locations/SITE1/{station}*1", headers=auth(token_c))
        assert evse.json()["data"]["status"] == "OUTOFORDER"
        status = await stub.GetStatus(pb.GetStatusRequest())
        assert status.partners[0].backlog == 0
        assert status.partners[0].HasField("last_push_at")
        await refusals_change_nothing(stub)
    finally:
        await producer.stop()
        await http.aclose()
        await channel.close()
        await app.stop()
