"""OCPP integers are 32 bit in both specifications: beyond that is a property violation."""

import pytest

from chargegrid.gateway.protocol.errors import ErrorCode, OcppError
from chargegrid.gateway.protocol.schemas import Direction, validate
from chargegrid.gateway.protocol.versions import OcppVersion


@pytest.mark.parametrize("request_id", [2**31, -(2**31) - 1, 2**53])
def test_an_integer_beyond_32_bits_is_a_property_constraint_violation(request_id: int) -> None:
    with pytest.raises(OcppError) as refused:
        validate(
            OcppVersion.V16,
            "LogStatusNotification",
            Direction.REQUEST,
            {"status": "BadMessage", "requestId": request_id},
        )

    assert refused.value.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert refused.value.details == {"field": "requestId"}


@pytest.mark.parametrize("request_id", [2**31 - 1, -(2**31)])
def test_the_32_bit_extremes_themselves_are_valid(request_id: int) -> None:
    validate(
        OcppVersion.V201,
        "LogStatusNotification",
        Direction.REQUEST,
        {"status": "Uploading", "requestId": request_id},
    )


def test_the_schema_s_own_tighter_bounds_are_kept() -> None:
    with pytest.raises(OcppError) as refused:
        validate(
            OcppVersion.V201,
            "NotifyEVChargingNeeds",
            Direction.REQUEST,
            {
                "evseId": 1,
                "chargingNeeds": {
                    "requestedEnergyTransfer": "DC",
                    "dcChargingParameters": {
                        "evMaxCurrent": 100,
                        "evMaxVoltage": 400,
                        "stateOfCharge": 101,
                    },
                },
            },
        )

    assert refused.value.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert refused.value.details == {"field": "chargingNeeds.dcChargingParameters.stateOfCharge"}
