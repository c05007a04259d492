"""Builders of the stations service's objects the roaming service reads."""

from __future__ import annotations

from typing import Any

from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.api.stations.v1 import stations_pb2 as st


def a_site(site_id: str = "SITE1", **overrides: Any) -> st.Site:
    fields: dict[str, Any] = {
        "id": site_id,
        "name": f"Site {site_id}",
        "address": "Hauptstrasse 1",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
        "latitude": 52.52,
        "longitude": 13.405,
        "timezone": "Europe/Berlin",
    }
    fields.update(overrides)
    return st.Site(**fields)


def a_station(
    station_id: str = "CS1", site_id: str = "SITE1", evses: int = 2, kind: str = "cType2"
) -> st.Station:
    return st.Station(
        id=station_id,
        site_id=site_id,
        evses=[
            st.Evse(
                evse_id=n,
                connectors=[
                    st.Connector(
                        connector_id=1,
                        type=kind,
                        max_power_w=22000,
                        max_current_a=32,
                        status=ev.CONNECTOR_STATUS_AVAILABLE,
                    )
                ],
            )
            for n in range(1, evses + 1)
        ],
    )


class FakeRegistry:
    def __init__(self, sites: list[st.Site], stations: list[st.Station]) -> None:
        self.sites = sites
        self.stations = stations

    async def snapshot(self) -> tuple[list[st.Site], list[st.Station]]:
        return list(self.sites), list(self.stations)
