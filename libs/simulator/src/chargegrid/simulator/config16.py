"""OCPP 1.6 configuration keys: GetConfiguration and ChangeConfiguration.

Keys that change behaviour (intervals, measurands, authorisation) write through to the
station policy; read-only keys refuse changes and a few keys only take effect after a reboot,
so a CSMS's configuration management meets every answer a real station gives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chargegrid.simulator.config import StationConfig
from chargegrid.simulator.meter import DEFAULT_MEASURANDS, parse_measurands
from chargegrid.simulator.policy import StationPolicy

_KNOWN_MEASURANDS = {
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Current.Import",
    "Voltage",
    "SoC",
    "Current.Offered",
    "Power.Offered",
    "Temperature",
    "Frequency",
}


@dataclass
class ConfigKey:
    value: str
    readonly: bool = False
    reboot_required: bool = False
    write_only: bool = False
    check: Callable[[str], bool] | None = None
    apply: Callable[[str], None] | None = None
    read: Callable[[], str] | None = None

    @property
    def current(self) -> str:
        """The value now (keys backed by the policy follow it, e.g. after BootNotification)."""
        return self.read() if self.read is not None else self.value


def _is_int(value: str) -> bool:
    return value.strip().lstrip("-").isdigit()


def _is_positive_number(value: str) -> bool:
    try:
        return float(value) > 0
    except ValueError:
        return False


def _is_bool(value: str) -> bool:
    return value.lower() in ("true", "false")


def _is_measurand_list(value: str) -> bool:
    return all(m in _KNOWN_MEASURANDS for m in parse_measurands(value))


def _flag(value: str) -> bool:
    return value.lower() == "true"


def _seconds(value: float) -> str:
    return f"{value:g}"


class ConfigurationStore:
    """The station's 1.6 configuration keys, bound to its policy."""

    def __init__(
        self,
        config: StationConfig,
        policy: StationPolicy,
        on_password: Callable[[str], None] | None = None,
    ) -> None:
        self.policy = policy
        self.keys: dict[str, ConfigKey] = self._defaults(config, policy)
        self.keys["AuthorizationKey"] = ConfigKey(
            "", write_only=True, check=lambda v: 16 <= len(v) <= 80, apply=on_password
        )

    def get(self, names: list[str] | None) -> tuple[list[tuple[str, ConfigKey]], list[str]]:
        """Known keys (all readable ones when `names` is empty) and unknown names asked for."""
        if not names:
            return [(n, k) for n, k in self.keys.items() if not k.write_only], []
        known = [(n, self.keys[n]) for n in names if n in self.keys]
        unknown = [n for n in names if n not in self.keys]
        return known, unknown

    def change(self, name: str, value: str) -> str:
        """Accepted, Rejected, RebootRequired or NotSupported, as ChangeConfiguration says."""
        key = self.keys.get(name)
        if key is None:
            return "NotSupported"
        if key.readonly or (key.check is not None and not key.check(value)):
            return "Rejected"
        key.value = value
        if key.apply is not None:
            key.apply(value)
        return "RebootRequired" if key.reboot_required else "Accepted"

    def _defaults(self, config: StationConfig, policy: StationPolicy) -> dict[str, ConfigKey]:
        def bind(attribute: str) -> Callable[[str], None]:
            return lambda value: setattr(policy, attribute, _flag(value))

        def measurands(attribute: str) -> Callable[[str], None]:
            return lambda value: setattr(policy, attribute, parse_measurands(value))

        return {
            "HeartbeatInterval": ConfigKey(
                _seconds(policy.heartbeat_interval_s),
                check=_is_positive_number,
                apply=lambda v: policy.set_heartbeat(float(v)),
                read=lambda: _seconds(policy.heartbeat_interval_s),
            ),
            "MeterValueSampleInterval": ConfigKey(
                _seconds(policy.meter_interval_s),
                check=_is_positive_number,
                apply=lambda v: setattr(policy, "meter_interval_s", float(v)),
                read=lambda: _seconds(policy.meter_interval_s),
            ),
            "MeterValuesSampledData": ConfigKey(
                ",".join(DEFAULT_MEASURANDS),
                check=_is_measurand_list,
                apply=measurands("measurands"),
            ),
            "StopTxnSampledData": ConfigKey(
                ",".join(policy.ended_measurands),
                check=_is_measurand_list,
                apply=measurands("ended_measurands"),
            ),
            "AuthorizeRemoteTxRequests": ConfigKey(
                "false", check=_is_bool, apply=bind("authorize_remote_starts")
            ),
            "LocalPreAuthorize": ConfigKey(
                "true", check=_is_bool, apply=bind("local_pre_authorize")
            ),
            "LocalAuthListEnabled": ConfigKey(
                "true", check=_is_bool, apply=bind("local_list_enabled")
            ),
            "AuthorizationCacheEnabled": ConfigKey(
                "true", check=_is_bool, apply=bind("auth_cache_enabled")
            ),
            "AllowOfflineTxForUnknownId": ConfigKey(
                "false", check=_is_bool, apply=bind("offline_tx_for_unknown_id")
            ),
            "StopTransactionOnInvalidId": ConfigKey(
                "true", check=_is_bool, apply=bind("stop_on_invalid_id")
            ),
            "ConnectionTimeOut": ConfigKey("60", check=_is_int),
            "ResetRetries": ConfigKey("1", check=_is_int),
            "TransactionMessageAttempts": ConfigKey("3", check=_is_int),
            "TransactionMessageRetryInterval": ConfigKey("10", check=_is_int),
            "ClockAlignedDataInterval": ConfigKey("0", check=_is_int),
            "UnlockConnectorOnEVSideDisconnect": ConfigKey("true", check=_is_bool),
            "StopTransactionOnEVSideDisconnect": ConfigKey("true", check=_is_bool),
            "WebSocketPingInterval": ConfigKey("0", reboot_required=True, check=_is_int),
            "SecurityProfile": ConfigKey(
                "1" if config.password else "0", reboot_required=True, check=_is_int
            ),
            "NumberOfConnectors": ConfigKey(str(config.connectors), readonly=True),
            "SupportedFeatureProfiles": ConfigKey(
                "Core,FirmwareManagement,LocalAuthListManagement,Reservation,"
                "SmartCharging,RemoteTrigger",
                readonly=True,
            ),
            "GetConfigurationMaxKeys": ConfigKey("50", readonly=True),
            "LocalAuthListMaxLength": ConfigKey("1000", readonly=True),
            "SendLocalListMaxLength": ConfigKey("1000", readonly=True),
            "ChargeProfileMaxStackLevel": ConfigKey("10", readonly=True),
            "ChargingScheduleAllowedChargingRateUnit": ConfigKey("Current,Power", readonly=True),
            "ChargingScheduleMaxPeriods": ConfigKey("24", readonly=True),
            "MaxChargingProfilesInstalled": ConfigKey("20", readonly=True),
            "ReserveConnectorZeroSupported": ConfigKey("false", readonly=True),
        }
