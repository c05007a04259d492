"""The catalogue of OCPP 2.x device-model variables a simulated station exposes.

A useful subset of the standardized controllers, with the mutability, data types and units
the specification gives them. Variables that change behaviour write through to the station
policy, so a CSMS setting TxUpdatedInterval really changes how often meter values arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chargegrid.simulator.meter import DEFAULT_MEASURANDS, parse_measurands

if TYPE_CHECKING:
    from chargegrid.simulator.station import Station

_MEASURANDS = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC"
_TX_POINTS = "ParkingBayOccupancy,EVConnected,Authorized,DataSigned,PowerPathClosed,EnergyTransfer"


@dataclass
class Variable:
    """One variable of one component instance (Actual attribute only)."""

    component: str
    name: str
    value: str | Callable[[], str]
    mutability: str = "ReadWrite"
    data_type: str = "string"
    evse_id: int | None = None
    instance: str | None = None
    unit: str | None = None
    values_list: str | None = None
    reboot_required: bool = False
    apply: Callable[[str], None] | None = None

    def read(self) -> str:
        return self.value() if callable(self.value) else self.value

    def accepts(self, value: str) -> bool:
        """Whether `value` fits the variable's data type (and values list)."""
        checks: dict[str, Callable[[str], bool]] = {
            "integer": lambda v: v.strip().lstrip("-").isdigit(),
            "decimal": _is_decimal,
            "boolean": lambda v: v.lower() in ("true", "false"),
            "OptionList": lambda v: v in self._options(),
            "MemberList": lambda v: all(m in self._options() for m in parse_measurands(v)),
        }
        check = checks.get(self.data_type)
        return len(value) <= 1000 and (check is None or check(value))

    def _options(self) -> set[str]:
        return set(parse_measurands(self.values_list or ""))


def _is_decimal(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def standard_variables(station: Station) -> list[Variable]:
    config = station.config
    policy = station.policy

    def flag(attribute: str) -> Callable[[str], None]:
        return lambda value: setattr(policy, attribute, value.lower() == "true")

    def evse_state(evse_id: int) -> Callable[[], str]:
        return lambda: "Available" if station.connectors[evse_id].operative else "Unavailable"

    found = [
        Variable("ChargingStation", "Model", config.model, "ReadOnly"),
        Variable("ChargingStation", "VendorName", config.vendor, "ReadOnly"),
        Variable("ChargingStation", "Available", "true", "ReadOnly", "boolean"),
        Variable(
            "ChargingStation",
            "AvailabilityState",
            lambda: (
                "Available"
                if any(c.operative for c in station.connectors.values())
                else "Unavailable"
            ),
            "ReadOnly",
        ),
        Variable("ChargingStation", "SupplyPhases", str(config.phases), "ReadOnly", "integer"),
        Variable(
            "OCPPCommCtrlr",
            "HeartbeatInterval",
            lambda: f"{policy.heartbeat_interval_s:.0f}",
            data_type="integer",
            unit="s",
            apply=lambda v: policy.set_heartbeat(float(v)),
        ),
        Variable(
            "OCPPCommCtrlr",
            "NetworkConfigurationPriority",
            "0",
            reboot_required=True,
            apply=station.network.set_priority,
        ),
        Variable(
            "OCPPCommCtrlr", "MessageTimeout", "30", "ReadOnly", "integer", instance="Default"
        ),
        Variable("OCPPCommCtrlr", "FileTransferProtocols", "HTTP,HTTPS", "ReadOnly", "MemberList"),
        Variable("OCPPCommCtrlr", "ResetRetries", "1", data_type="integer"),
        Variable(
            "OCPPCommCtrlr", "WebSocketPingInterval", "0", data_type="integer", reboot_required=True
        ),
        Variable("SampledDataCtrlr", "Enabled", "true", data_type="boolean"),
        Variable(
            "SampledDataCtrlr",
            "TxUpdatedInterval",
            lambda: f"{policy.meter_interval_s:g}",
            data_type="integer",
            unit="s",
            apply=lambda v: setattr(policy, "meter_interval_s", max(float(v), 0.01)),
        ),
        Variable(
            "SampledDataCtrlr",
            "TxUpdatedMeasurands",
            ",".join(DEFAULT_MEASURANDS),
            data_type="MemberList",
            values_list=_MEASURANDS,
            apply=lambda v: setattr(policy, "measurands", parse_measurands(v)),
        ),
        Variable(
            "SampledDataCtrlr",
            "TxEndedMeasurands",
            ",".join(policy.ended_measurands),
            data_type="MemberList",
            values_list=_MEASURANDS,
            apply=lambda v: setattr(policy, "ended_measurands", parse_measurands(v)),
        ),
        Variable("AuthCtrlr", "Enabled", "true", data_type="boolean"),
        Variable(
            "AuthCtrlr",
            "AuthorizeRemoteStart",
            "false",
            data_type="boolean",
            apply=flag("authorize_remote_starts"),
        ),
        Variable(
            "AuthCtrlr",
            "LocalPreAuthorize",
            "true",
            data_type="boolean",
            apply=flag("local_pre_authorize"),
        ),
        Variable(
            "AuthCtrlr",
            "MasterPassGroupId",
            "",
            apply=lambda v: setattr(policy, "master_pass_group_id", v),
        ),
        Variable(
            "AuthCtrlr",
            "OfflineTxForUnknownIdEnabled",
            "false",
            data_type="boolean",
            apply=flag("offline_tx_for_unknown_id"),
        ),
        Variable(
            "AuthCacheCtrlr",
            "Enabled",
            "true",
            data_type="boolean",
            apply=flag("auth_cache_enabled"),
        ),
        Variable(
            "LocalAuthListCtrlr",
            "Enabled",
            "true",
            data_type="boolean",
            apply=flag("local_list_enabled"),
        ),
        Variable(
            "LocalAuthListCtrlr",
            "Entries",
            lambda: str(len(station.local_list)),
            "ReadOnly",
            "integer",
        ),
        Variable("LocalAuthListCtrlr", "ItemsPerMessage", "100", "ReadOnly", "integer"),
        Variable("LocalAuthListCtrlr", "BytesPerMessage", "65536", "ReadOnly", "integer"),
        Variable("TxCtrlr", "EVConnectionTimeOut", "60", data_type="integer", unit="s"),
        Variable("TxCtrlr", "StopTxOnEVSideDisconnect", "true", data_type="boolean"),
        Variable(
            "TxCtrlr",
            "StopTxOnInvalidId",
            "true",
            data_type="boolean",
            apply=flag("stop_on_invalid_id"),
        ),
        Variable(
            "TxCtrlr", "TxStartPoint", "Authorized", data_type="MemberList", values_list=_TX_POINTS
        ),
        Variable(
            "TxCtrlr",
            "TxStopPoint",
            "EVConnected,Authorized",
            data_type="MemberList",
            values_list=_TX_POINTS,
        ),
        Variable("SmartChargingCtrlr", "Enabled", "true", data_type="boolean"),
        Variable("SmartChargingCtrlr", "ProfileStackLevel", "10", "ReadOnly", "integer"),
        Variable("SmartChargingCtrlr", "RateUnit", "A,W", "ReadOnly", "MemberList"),
        Variable("SmartChargingCtrlr", "PeriodsPerSchedule", "24", "ReadOnly", "integer"),
        Variable(
            "SmartChargingCtrlr",
            "Entries",
            lambda: str(len(station.profiles.installed())),
            "ReadOnly",
            "integer",
            instance="ChargingProfiles",
        ),
        Variable("ReservationCtrlr", "Enabled", "true", data_type="boolean"),
        Variable("ReservationCtrlr", "NonEvseSpecific", "true", "ReadOnly", "boolean"),
        Variable(
            "SecurityCtrlr",
            "SecurityProfile",
            "1" if config.password else "0",
            "ReadOnly",
            "integer",
        ),
        Variable(
            "SecurityCtrlr",
            "BasicAuthPassword",
            "",
            "WriteOnly",
            reboot_required=True,
            apply=station.change_password,
        ),
        Variable("SecurityCtrlr", "OrganizationName", config.vendor),
        Variable("SecurityCtrlr", "Identity", config.station_id, "ReadOnly"),
        Variable(
            "DeviceDataCtrlr", "ItemsPerMessage", "100", "ReadOnly", "integer", instance="GetReport"
        ),
        Variable(
            "DeviceDataCtrlr",
            "ItemsPerMessage",
            "50",
            "ReadOnly",
            "integer",
            instance="GetVariables",
        ),
        Variable(
            "DeviceDataCtrlr",
            "ItemsPerMessage",
            "50",
            "ReadOnly",
            "integer",
            instance="SetVariables",
        ),
        *(
            Variable(
                "DeviceDataCtrlr",
                "BytesPerMessage",
                "8192",
                "ReadOnly",
                "integer",
                instance=action,
            )
            for action in ("GetReport", "GetVariables", "SetVariables")
        ),
    ]
    for evse_id in station.connectors:
        found += [
            Variable("EVSE", "AvailabilityState", evse_state(evse_id), "ReadOnly", evse_id=evse_id),
            Variable(
                "EVSE",
                "Power",
                f"{config.connector_max_w:.0f}",
                "ReadOnly",
                "decimal",
                evse_id=evse_id,
                unit="W",
            ),
            Variable(
                "EVSE", "SupplyPhases", str(config.phases), "ReadOnly", "integer", evse_id=evse_id
            ),
        ]
    return found
