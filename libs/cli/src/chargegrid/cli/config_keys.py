"""The well-known OCPP 1.6 configuration keys and the 2.x variables that replaced them.

Operators know `HeartbeatInterval`; a 2.0.1 or 2.1 station knows only
`OCPPCommCtrlr/HeartbeatInterval`. `chargegrid ops get-config / set-config` translate the
keys below for 2.x stations (OCPP 2.0.1 part 2, appendix 3 "Standardized components and
variables"), and pass every other key on as given.
"""

from __future__ import annotations

#: 1.6 key -> 2.x `Component/Variable` (an instance after a dot: `Variable.Instance`).
KEYS_16_TO_2X = {
    "HeartbeatInterval": "OCPPCommCtrlr/HeartbeatInterval",
    "WebSocketPingInterval": "OCPPCommCtrlr/WebSocketPingInterval",
    "ResetRetries": "OCPPCommCtrlr/ResetRetries",
    "TransactionMessageAttempts": "OCPPCommCtrlr/MessageAttempts.TransactionEvent",
    "TransactionMessageRetryInterval": "OCPPCommCtrlr/MessageAttemptInterval.TransactionEvent",
    "MeterValueSampleInterval": "SampledDataCtrlr/TxUpdatedInterval",
    "MeterValuesSampledData": "SampledDataCtrlr/TxUpdatedMeasurands",
    "StopTxnSampledData": "SampledDataCtrlr/TxEndedMeasurands",
    "ClockAlignedDataInterval": "AlignedDataCtrlr/Interval",
    "MeterValuesAlignedData": "AlignedDataCtrlr/Measurands",
    "StopTxnAlignedData": "AlignedDataCtrlr/TxEndedMeasurands",
    "ConnectionTimeOut": "TxCtrlr/EVConnectionTimeOut",
    "StopTransactionOnEVSideDisconnect": "TxCtrlr/StopTxOnEVSideDisconnect",
    "StopTransactionOnInvalidId": "TxCtrlr/StopTxOnInvalidId",
    "AuthorizeRemoteTxRequests": "AuthCtrlr/AuthorizeRemoteStart",
    "LocalPreAuthorize": "AuthCtrlr/LocalPreAuthorize",
    "LocalAuthorizeOffline": "AuthCtrlr/LocalAuthorizeOffline",
    "AllowOfflineTxForUnknownId": "AuthCtrlr/OfflineTxForUnknownIdEnabled",
    "AuthorizationCacheEnabled": "AuthCacheCtrlr/Enabled",
    "LocalAuthListEnabled": "LocalAuthListCtrlr/Enabled",
    "SecurityProfile": "SecurityCtrlr/SecurityProfile",
    "AuthorizationKey": "SecurityCtrlr/BasicAuthPassword",
    "CpoName": "SecurityCtrlr/OrganizationName",
}
#: What `get-config` without `--key` reads from a 2.x station (2.x has no "all keys" read).
DEFAULT_2X_KEYS = (
    "OCPPCommCtrlr/HeartbeatInterval",
    "OCPPCommCtrlr/WebSocketPingInterval",
    "SampledDataCtrlr/TxUpdatedInterval",
    "SampledDataCtrlr/TxUpdatedMeasurands",
    "TxCtrlr/EVConnectionTimeOut",
    "AuthCtrlr/AuthorizeRemoteStart",
    "AuthCtrlr/LocalPreAuthorize",
    "AuthCacheCtrlr/Enabled",
    "LocalAuthListCtrlr/Enabled",
    "SecurityCtrlr/SecurityProfile",
)
OCPP_16 = 1


def key_for(key: str, ocpp_version: int) -> str:
    """`key` as a station of `ocpp_version` (1 = 1.6, 2 = 2.0.1, 3 = 2.1, 0 = unknown)
    names it: well-known 1.6 keys become 2.x variables; anything else is left alone."""
    if ocpp_version > OCPP_16 and "/" not in key:
        return KEYS_16_TO_2X.get(key, key)
    return key


def keys_to_read(keys: list[str], ocpp_version: int) -> list[str]:
    """The keys `get-config` asks a station for: the given ones, translated, or for a 2.x
    station without any, the well-known variables (1.6 answers every key to an empty list)."""
    if not keys:
        return list(DEFAULT_2X_KEYS) if ocpp_version > OCPP_16 else []
    return [key_for(key, ocpp_version) for key in keys]
