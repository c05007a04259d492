"""Station commands (operator and admin): each goes to the gateway's StationControl.

The answer is the station's own: `status` (Accepted, Rejected, ...) and its reason. A
station that is not connected is 409 (FAILED_PRECONDITION), one that does not answer 504.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.console.auth import Caller, operator, viewer
from chargegrid.console.backends import Backends
from chargegrid.console.convert import to_json
from chargegrid.console.deps import backends

router = APIRouter(prefix="/stations/{station_id}/commands", tags=["station commands"])
Operator = Annotated[Caller, Depends(operator)]
Viewer = Annotated[Caller, Depends(viewer)]
B = Annotated[Backends, Depends(backends)]
Id = Annotated[int, Field(ge=0, le=1000)]
RESET_KINDS = {
    "soft": pb.RESET_KIND_SOFT,
    "hard": pb.RESET_KIND_HARD,
    "on_idle": pb.RESET_KIND_ON_IDLE,
}


class ResetBody(BaseModel):
    kind: Literal["soft", "hard", "on_idle"] = "soft"
    evse_id: Id = 0


class UnlockBody(BaseModel):
    evse_id: Id = 0
    connector_id: Id = 1


class AvailabilityBody(BaseModel):
    operative: bool
    evse_id: Id = 0
    connector_id: Id = 0


class StartBody(BaseModel):
    id_token: str = Field(min_length=1, max_length=255)
    id_token_type: str = Field(default="ISO14443", max_length=32)
    evse_id: Id = 0
    remote_start_id: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0


class StopBody(BaseModel):
    transaction_id: str = Field(min_length=1, max_length=64)


class TriggerBody(BaseModel):
    message: str = Field(
        min_length=1, max_length=64, description="e.g. StatusNotification, Heartbeat, MeterValues"
    )
    evse_id: Id = 0
    connector_id: Id = 0


class GetConfigurationBody(BaseModel):
    keys: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=200
    )


class ConfigurationItem(BaseModel):
    key: str = Field(min_length=1, max_length=500)
    value: str = Field(max_length=2500)


class SetConfigurationBody(BaseModel):
    values: list[ConfigurationItem] = Field(min_length=1, max_length=100)


@router.post("/reset")
async def reset(station_id: str, body: ResetBody, caller: Operator, b: B) -> dict[str, Any]:
    request = pb.ResetRequest(
        station_id=station_id, kind=RESET_KINDS[body.kind], evse_id=body.evse_id
    )
    return to_json(await b.command("Reset", request, caller))


@router.post("/unlock")
async def unlock(station_id: str, body: UnlockBody, caller: Operator, b: B) -> dict[str, Any]:
    request = pb.UnlockConnectorRequest(
        station_id=station_id, evse_id=body.evse_id, connector_id=body.connector_id
    )
    return to_json(await b.command("UnlockConnector", request, caller))


@router.post("/availability")
async def availability(
    station_id: str, body: AvailabilityBody, caller: Operator, b: B
) -> dict[str, Any]:
    request = pb.ChangeAvailabilityRequest(
        station_id=station_id,
        evse_id=body.evse_id,
        connector_id=body.connector_id,
        operative=body.operative,
    )
    return to_json(await b.command("ChangeAvailability", request, caller))


@router.post("/start")
async def remote_start(station_id: str, body: StartBody, caller: Operator, b: B) -> dict[str, Any]:
    request = pb.StartChargingRequest(
        station_id=station_id,
        id_token=pb.IdToken(id=body.id_token, type=body.id_token_type),
        evse_id=body.evse_id,
        remote_start_id=body.remote_start_id,
    )
    return to_json(await b.command("StartCharging", request, caller))


@router.post("/stop")
async def remote_stop(station_id: str, body: StopBody, caller: Operator, b: B) -> dict[str, Any]:
    request = pb.StopChargingRequest(station_id=station_id, transaction_id=body.transaction_id)
    return to_json(await b.command("StopCharging", request, caller))


@router.post("/trigger")
async def trigger(station_id: str, body: TriggerBody, caller: Operator, b: B) -> dict[str, Any]:
    request = pb.TriggerMessageRequest(
        station_id=station_id,
        message=body.message,
        evse_id=body.evse_id,
        connector_id=body.connector_id,
    )
    return to_json(await b.command("TriggerMessage", request, caller))


@router.post("/get-configuration")
async def get_configuration(
    station_id: str, body: GetConfigurationBody, caller: Viewer, b: B
) -> dict[str, Any]:
    """Asks the station for its configuration (viewers may: it changes nothing)."""
    request = pb.GetConfigurationRequest(station_id=station_id, keys=body.keys)
    return to_json(await b.command("GetConfiguration", request, caller))


@router.post("/set-configuration")
async def set_configuration(
    station_id: str, body: SetConfigurationBody, caller: Operator, b: B
) -> dict[str, Any]:
    request = pb.SetConfigurationRequest(
        station_id=station_id,
        values=[pb.ConfigurationValue(key=v.key, value=v.value) for v in body.values],
    )
    return to_json(await b.command("SetConfiguration", request, caller))
