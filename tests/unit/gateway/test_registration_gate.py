"""What a station may send and be sent, by the status its last boot on the connection got."""

from __future__ import annotations

from chargegrid.gateway.protocol.versions import OcppVersion
from chargegrid.gateway.registration import RegistrationGate


def a_gate(status: str | None, version: OcppVersion = OcppVersion.V201) -> RegistrationGate:
    gate = RegistrationGate(version)
    if status is not None:
        gate.booted(status)
    return gate


def test_a_connection_without_a_boot_yet_is_served_as_before() -> None:
    gate = a_gate(None)
    assert gate.admits("Heartbeat")
    assert gate.may_send("RequestStartTransaction")


def test_an_accepted_station_sends_and_is_sent_everything() -> None:
    gate = a_gate("Accepted")
    assert gate.admits("TransactionEvent")
    assert gate.may_send("RequestStartTransaction")


def test_a_pending_station_may_only_boot_and_report() -> None:
    gate = a_gate("Pending")
    assert gate.admits("BootNotification")
    assert gate.admits("NotifyReport")
    assert not gate.admits("Heartbeat")
    assert not gate.admits("StatusNotification")


def test_a_pending_16_station_is_sent_configuration_calls_but_no_remote_start() -> None:
    gate = a_gate("Pending", OcppVersion.V16)
    assert gate.may_send("GetConfiguration")
    assert gate.may_send("ChangeConfiguration")
    assert not gate.may_send("RemoteStartTransaction")
    assert not gate.admits("NotifyReport")


def test_what_a_trigger_asked_for_is_let_through_once() -> None:
    gate = a_gate("Pending")
    gate.sending("TriggerMessage", {"requestedMessage": "StatusNotification"})
    assert gate.admits("StatusNotification")
    assert not gate.admits("StatusNotification")


def test_a_rejected_station_is_sent_nothing_and_may_only_boot() -> None:
    gate = a_gate("Rejected")
    assert not gate.may_send("GetVariables")
    assert not gate.may_send("TriggerMessage")
    assert not gate.admits("NotifyReport")
    assert gate.admits("BootNotification")


def test_an_accepted_boot_lifts_the_hold() -> None:
    gate = a_gate("Pending")
    gate.booted("Accepted")
    assert gate.admits("Heartbeat")
