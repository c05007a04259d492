"""The charging profiles energy sends, in the gateway's version-neutral form.

The gateway turns them into 1.6 (TxProfile / TxDefaultProfile / ChargePointMaxProfile,
transactionId an integer) or 2.x (TxProfile with transactionId / TxDefaultProfile /
ChargingStationMaxProfile) frames. Each slot has a fixed profile id, so a new limit
replaces the old profile instead of stacking beside it:

- TxProfile, stack level 1, Relative to the transaction's start, id 100 + EVSE id: the
  allocation of one EVSE while it charges.
- TxDefaultProfile on EVSE 0, stack level 0, id 1: what any transaction may draw before
  energy has spoken, and what the station keeps to when it loses its connection.
- ChargePointMax / ChargingStationMax on EVSE 0, id 2: the whole station's fallback cap.
"""

from __future__ import annotations

from chargegrid.api.gateway.v1 import station_control_pb2 as pb

TX_DEFAULT_PROFILE_ID = 1
STATION_MAX_PROFILE_ID = 2
TX_PROFILE_BASE = 100
TX_STACK_LEVEL = 1
DEFAULT_STACK_LEVEL = 0

PURPOSE_NAMES = {
    pb.CHARGING_PROFILE_PURPOSE_TX: "tx",
    pb.CHARGING_PROFILE_PURPOSE_TX_DEFAULT: "tx_default",
    pb.CHARGING_PROFILE_PURPOSE_STATION_MAX: "station_max",
}


def tx_profile_id(evse_id: int) -> int:
    return TX_PROFILE_BASE + evse_id


def _schedule(limit_a: float, schedule_id: int) -> pb.ChargingSchedule:
    # 1.6 wants tenths of an ampere; rounding down keeps the station under the allocation.
    limit = max(0.0, int(limit_a * 10) / 10)
    return pb.ChargingSchedule(
        id=schedule_id,
        rate_unit="A",
        periods=[pb.ChargingSchedulePeriod(start_period_s=0, limit=limit)],
    )


def tx_profile(evse_id: int, transaction_id: str, limit_a: float) -> pb.ChargingProfile:
    """The allocation of one charging EVSE (per phase, in A)."""
    profile_id = tx_profile_id(evse_id)
    return pb.ChargingProfile(
        id=profile_id,
        stack_level=TX_STACK_LEVEL,
        purpose=pb.CHARGING_PROFILE_PURPOSE_TX,
        kind="Relative",
        transaction_id=transaction_id,
        schedule=_schedule(limit_a, profile_id),
    )


def tx_default_profile(limit_a: float) -> pb.ChargingProfile:
    """Every EVSE of the station, for transactions energy has not limited yet."""
    return pb.ChargingProfile(
        id=TX_DEFAULT_PROFILE_ID,
        stack_level=DEFAULT_STACK_LEVEL,
        purpose=pb.CHARGING_PROFILE_PURPOSE_TX_DEFAULT,
        kind="Relative",
        schedule=_schedule(limit_a, TX_DEFAULT_PROFILE_ID),
    )


def station_max_profile(limit_a: float) -> pb.ChargingProfile:
    """The whole station, whatever its transactions' profiles say."""
    return pb.ChargingProfile(
        id=STATION_MAX_PROFILE_ID,
        stack_level=DEFAULT_STACK_LEVEL,
        purpose=pb.CHARGING_PROFILE_PURPOSE_STATION_MAX,
        kind="Absolute",
        schedule=_schedule(limit_a, STATION_MAX_PROFILE_ID),
    )
