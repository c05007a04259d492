"""The Stations servicer: every RPC of stations.proto, assembled from the concern mixins."""

from __future__ import annotations

from chargegrid.api.stations.v1 import stations_pb2_grpc as pb_grpc
from chargegrid.stations.api.alerts import AlertsApi
from chargegrid.stations.api.base import ApiDeps
from chargegrid.stations.api.boot import BootApi
from chargegrid.stations.api.certificates import CertificatesApi
from chargegrid.stations.api.configuration import ConfigurationApi
from chargegrid.stations.api.reservations import ReservationsApi
from chargegrid.stations.api.security import SecurityApi
from chargegrid.stations.api.sites import SitesApi
from chargegrid.stations.api.stations import StationsApi
from chargegrid.stations.api.watch import WatchApi
from chargegrid.stations.boots import BootRegistrar, SecurityLookup
from chargegrid.stations.station_lookup import StationLookup

SERVICE_NAME = "chargegrid.api.stations.v1.Stations"


class StationsService(
    BootApi,
    CertificatesApi,
    SecurityApi,
    SitesApi,
    StationsApi,
    ConfigurationApi,
    WatchApi,
    ReservationsApi,
    AlertsApi,
    pb_grpc.StationsServicer,
):
    def __init__(self, deps: ApiDeps) -> None:
        self.deps = deps
        self.boots = BootRegistrar(deps.sessions, deps.policy)
        self.security = SecurityLookup(deps.sessions)
        self.lookup = StationLookup(deps.sessions, deps.policy.heartbeat_interval_s)
