"""Local lists pushed to stations through a fake gateway: full, differential, mismatch, boot."""

from __future__ import annotations

import grpc
import pytest

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.api.gateway.v1 import station_control_pb2 as sc_pb
from tests.integration.authorization.conftest import Service, a_token, ref


def station(station_id: str) -> pb.LocalListScope:
    return pb.LocalListScope(station_id=station_id)


def site(site_id: str) -> pb.LocalListScope:
    return pb.LocalListScope(site_id=site_id)


def entries(request: sc_pb.SendLocalListRequest) -> dict[str, str]:
    return {e.id_token.id: e.status for e in request.entries}


async def _setup(service: Service, *ids: str) -> None:
    await service.stub().ImportTokens(
        pb.ImportTokensRequest(tokens=[a_token(i, group_id="FLEET") for i in ids])
    )


async def test_a_new_list_goes_out_full_and_later_changes_as_differentials(
    service: Service,
) -> None:
    gateway, stub = service.fakes.gateway, service.stub()
    gateway.online.add("CP-1")
    await _setup(service, "A", "B", "C")

    first = await stub.AddToLocalList(
        pb.LocalListChange(scope=station("CP-1"), tokens=[ref("A"), ref("B")])
    )
    assert first.version == 1
    assert sorted(t.id_token for t in first.tokens) == ["A", "B"]
    await service.settled()
    (full,) = gateway.sent_to("CP-1")
    assert (full.update_type, full.version, entries(full)) == (
        "Full",
        1,
        {"A": "Accepted", "B": "Accepted"},
    )
    assert full.entries[0].parent_id == "FLEET"

    await stub.UpdateToken(
        pb.UpdateTokenRequest(token=a_token("A", status=pb.AUTHORIZATION_STATUS_BLOCKED))
    )
    await service.settled()
    blocked = gateway.sent_to("CP-1")[-1]
    assert (blocked.update_type, blocked.version, entries(blocked)) == (
        "Differential",
        2,
        {"A": "Blocked"},
    )

    await stub.RemoveFromLocalList(pb.LocalListChange(scope=station("CP-1"), tokens=[ref("B")]))
    await service.settled()
    removed = gateway.sent_to("CP-1")[-1]
    assert (removed.update_type, removed.version, entries(removed)) == (
        "Differential",
        3,
        {"B": ""},
    )

    await stub.DeleteToken(pb.DeleteTokenRequest(id_token="A"))
    await service.settled()
    deleted = gateway.sent_to("CP-1")[-1]
    assert (deleted.update_type, entries(deleted)) == ("Differential", {"A": ""})

    listed = await stub.GetLocalList(pb.GetLocalListRequest(scope=station("CP-1")))
    assert (listed.version, list(listed.tokens)) == (4, [])


async def test_a_change_that_touches_no_entry_field_sends_nothing(service: Service) -> None:
    gateway, stub = service.fakes.gateway, service.stub()
    gateway.online.add("CP-1")
    await _setup(service, "A")
    await stub.AddToLocalList(pb.LocalListChange(scope=station("CP-1"), tokens=[ref("A")]))
    await service.settled()
    await stub.UpdateToken(
        pb.UpdateTokenRequest(token=a_token("A", group_id="FLEET", owner_ref="new"))
    )
    await service.settled()
    assert len(gateway.sent_to("CP-1")) == 1


async def test_a_site_list_reaches_every_online_station_of_the_site(service: Service) -> None:
    gateway, stub = service.fakes.gateway, service.stub()
    service.fakes.stations.site_of.update({"CP-1": "S", "CP-2": "S", "CP-3": "S", "CP-9": "T"})
    service.fakes.stations.offline.add("CP-3")
    gateway.online.update({"CP-1", "CP-2", "CP-9"})
    await _setup(service, "SITE-TAG", "OWN-TAG")
    await stub.AddToLocalList(pb.LocalListChange(scope=station("CP-1"), tokens=[ref("OWN-TAG")]))
    await stub.AddToLocalList(pb.LocalListChange(scope=site("S"), tokens=[ref("SITE-TAG")]))
    await service.settled()
    assert gateway.sent_to("CP-3") == gateway.sent_to("CP-9") == []
    assert entries(gateway.sent_to("CP-2")[-1]) == {"SITE-TAG": "Accepted"}
    # CP-1's effective list is its own list plus its site's.
    synced = await stub.SyncLocalList(pb.SyncLocalListRequest(station_id="CP-1", full=True))
    assert (synced.update_type, synced.status) == ("Full", "Accepted")
    assert entries(gateway.sent_to("CP-1")[-1]) == {"OWN-TAG": "Accepted", "SITE-TAG": "Accepted"}

    syncs = await stub.ListLocalListSyncs(pb.ListLocalListSyncsRequest(scope=site("S")))
    assert sorted((s.station_id, s.status) for s in syncs.syncs) == [
        ("CP-1", "Accepted"),
        ("CP-2", "Accepted"),
    ]


async def test_a_version_mismatch_answer_is_followed_by_a_full_update(service: Service) -> None:
    gateway, stub = service.fakes.gateway, service.stub()
    gateway.online.add("CP-1")
    await _setup(service, "A", "B")
    await stub.AddToLocalList(pb.LocalListChange(scope=station("CP-1"), tokens=[ref("A")]))
    await service.settled()
    gateway.answers["CP-1"].append("VersionMismatch")
    await stub.AddToLocalList(pb.LocalListChange(scope=station("CP-1"), tokens=[ref("B")]))
    await service.settled()
    kinds = [(r.update_type, r.version) for r in gateway.sent_to("CP-1")]
    assert kinds == [("Full", 1), ("Differential", 2), ("Full", 3)]
    assert entries(gateway.sent_to("CP-1")[-1]) == {"A": "Accepted", "B": "Accepted"}


async def test_at_boot_a_station_with_another_version_gets_the_full_list(service: Service) -> None:
    gateway, stub = service.fakes.gateway, service.stub()
    gateway.online.add("CP-1")
    await _setup(service, "A")
    await stub.AddToLocalList(pb.LocalListChange(scope=station("CP-1"), tokens=[ref("A")]))
    await service.settled()
    sent_before = len(gateway.sent)

    service.app.local_lists.station_booted("CP-1")  # same version: nothing to do
    await service.settled()
    assert len(gateway.sent) == sent_before

    gateway.versions["CP-1"] = 0  # e.g. the station was reset to factory settings
    service.app.local_lists.station_booted("CP-1")
    await service.settled()
    last = gateway.sent_to("CP-1")[-1]
    assert (last.update_type, last.version, entries(last)) == ("Full", 2, {"A": "Accepted"})


async def test_an_offline_station_is_recorded_and_gets_the_full_list_later(
    service: Service,
) -> None:
    gateway, stub = service.fakes.gateway, service.stub()
    await _setup(service, "A")
    await stub.AddToLocalList(pb.LocalListChange(scope=station("CP-1"), tokens=[ref("A")]))
    await service.settled()
    syncs = await stub.ListLocalListSyncs(pb.ListLocalListSyncsRequest(scope=station("CP-1")))
    assert [(s.status, s.update_type) for s in syncs.syncs] == [("offline", "Full")]

    gateway.online.add("CP-1")
    service.app.local_lists.station_booted("CP-1")
    await service.settled()
    (full,) = gateway.sent_to("CP-1")
    assert (full.update_type, entries(full)) == ("Full", {"A": "Accepted"})


async def test_local_list_input_is_checked_before_anything_changes(service: Service) -> None:
    stub = service.stub()
    await _setup(service, "A")
    cases = [
        (pb.LocalListChange(tokens=[ref("A")]), grpc.StatusCode.INVALID_ARGUMENT),
        (pb.LocalListChange(scope=station("CP-1")), grpc.StatusCode.INVALID_ARGUMENT),
        (
            pb.LocalListChange(scope=station("CP-1"), tokens=[ref("A"), ref("NOPE")]),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            pb.LocalListChange(scope=station("CP-1"), tokens=[ref("A", 42)]),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
    ]
    for change, code in cases:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.AddToLocalList(change)
        assert caught.value.code() == code
    listed = await stub.GetLocalList(pb.GetLocalListRequest(scope=station("CP-1")))
    assert (listed.version, list(listed.tokens)) == (0, [])


async def test_clear_station_cache_goes_through_the_gateway(service: Service) -> None:
    gateway, stub = service.fakes.gateway, service.stub()
    gateway.online.add("CP-1")
    reply = await stub.ClearStationCache(pb.ClearStationCacheRequest(station_id="CP-1"))
    assert reply.status == "Accepted"
    assert gateway.cleared == ["CP-1"]
    offline = await stub.ClearStationCache(pb.ClearStationCacheRequest(station_id="CP-2"))
    assert offline.status == "offline"
