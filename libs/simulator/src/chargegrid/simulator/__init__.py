"""OCPP 1.6J / 2.0.1 / 2.1 charge-station simulator for tests, load and demos.

A `Station` connects to a CSMS over WebSocket, boots, heartbeats and runs charging sessions
against an EV model that obeys the CSMS's charging profiles; it answers the CSMS's commands
(remote start/stop, reset, availability, configuration or device model, triggers, firmware
updates with failure modes, log uploads over HTTP, smart charging, local lists,
reservations) and reconnects with backoff. `Fleet` and `run_fleet` run many stations in one
process for `chargegrid sim`, load tests and demos. Time is injectable and energy accrues at
a configurable time scale, so tests run a full session in well under a second.
"""

from chargegrid.simulator.autopilot import SIMULATOR_ID_TAGS, AutoSessions
from chargegrid.simulator.charging import ConnectorBusyError
from chargegrid.simulator.clock import Clock, utc_now
from chargegrid.simulator.config import FirmwareFailure, OcppVersion, StationConfig
from chargegrid.simulator.ev import ElectricVehicle, EVSpec
from chargegrid.simulator.fleet import Fleet, FleetSummary, create_station, run_fleet, station_id
from chargegrid.simulator.model import ConnectorStatus, Session, StopReason
from chargegrid.simulator.station import Station
from chargegrid.simulator.station16 import Station16
from chargegrid.simulator.station21 import Station21
from chargegrid.simulator.station201 import Station201

__all__ = [
    "SIMULATOR_ID_TAGS",
    "AutoSessions",
    "Clock",
    "ConnectorBusyError",
    "ConnectorStatus",
    "EVSpec",
    "ElectricVehicle",
    "FirmwareFailure",
    "Fleet",
    "FleetSummary",
    "OcppVersion",
    "Session",
    "Station",
    "Station16",
    "Station21",
    "Station201",
    "StationConfig",
    "StopReason",
    "create_station",
    "run_fleet",
    "station_id",
    "utc_now",
]
