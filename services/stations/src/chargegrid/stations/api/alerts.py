"""Alerts (what stations reported through NotifyEvent, newest first) and the kept parts of
asynchronous reports (display messages, monitors)."""

from __future__ import annotations

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.grpc.errors import InvalidArgument
from chargegrid.stations.api import validation as check
from chargegrid.stations.api.base import ApiBase, Context
from chargegrid.stations.api.convert import stamp
from chargegrid.stations.models import AlertRow
from chargegrid.stations.store.alerts import list_alerts
from chargegrid.stations.store.paging import next_token, page_of
from chargegrid.stations.store.station_reports import KEPT, report_parts


def alert_to_proto(row: AlertRow) -> pb.Alert:
    message = pb.Alert(
        station_id=row.station_id, event_id=row.event_id, trigger=row.trigger,
        variable=row.variable, actual_value=row.actual_value, cleared=row.cleared,
        tech_code=row.tech_code, tech_info=row.tech_info, severity=row.severity,
        variable_monitoring_id=row.variable_monitoring_id,
        event_notification_type=row.event_notification_type, cause=row.cause,
    )  # fmt: skip
    stamp(message.occurred_at, row.occurred_at)
    return message


class AlertsApi(ApiBase):
    async def ListAlerts(
        self, request: pb.ListAlertsRequest, context: Context
    ) -> pb.ListAlertsReply:
        station_id = check.optional_station_id(request.station_id, "station_id")
        page = page_of(request.page)
        if page.after is not None and not page.after.isdigit():
            raise InvalidArgument("page_token is not a token this service issued")
        async with self.deps.sessions() as session:
            rows = await list_alerts(session, station_id, request.open_only, page)
        return pb.ListAlertsReply(
            alerts=[alert_to_proto(row) for row in rows[: page.size]],
            next_page_token=next_token([str(row.id) for row in rows], page),
        )

    async def ListStationReports(
        self, request: pb.ListStationReportsRequest, context: Context
    ) -> pb.ListStationReportsReply:
        station_id = check.station_id(request.station_id, "station_id")
        if request.action not in KEPT:
            raise InvalidArgument(f"action must be one of {', '.join(sorted(KEPT))}")
        async with self.deps.sessions() as session:
            rows = await report_parts(session, station_id, request.action, request.request_id)
        reply = pb.ListStationReportsReply()
        for row in rows:
            part = reply.parts.add(
                request_id=row.request_id, seq_no=row.seq_no, tbc=row.tbc,
                payload_json=row.payload_json,
            )  # fmt: skip
            stamp(part.received_at, row.received_at)
        return reply
