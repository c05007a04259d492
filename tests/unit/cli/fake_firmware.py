"""A Firmware service in memory (served over real gRPC by the tests) and a log file server.

Lists come in pages of two so that the commands must follow next_page_token.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.api.firmware.v1 import firmware_pb2_grpc as pb_grpc

LOG_CONTENT = b"2026-11-02T08:00:00Z boot ok\n" * 100
TOKEN = "t"
UPLOADED = Timestamp(seconds=1_793_000_000)


def a_station_update(**overrides: Any) -> pb.StationUpdate:
    fields: dict[str, Any] = {
        "station_id": "CP-1",
        "image_id": "IMG-1",
        "state": pb.UPDATE_STATE_IN_PROGRESS,
        "detail": "Downloading",
        "attempts": 1,
        "request_id": 7,
    }
    fields.update(overrides)
    return pb.StationUpdate(**fields)


def a_campaign(**overrides: Any) -> pb.Campaign:
    fields: dict[str, Any] = {
        "id": "C1",
        "image_id": "IMG-1",
        "target": pb.CampaignTarget(station_ids=["CP-1", "CP-2"]),
        "max_in_flight": 1,
        "state": pb.CAMPAIGN_STATE_RUNNING,
        "stations": [
            a_station_update(campaign_id="C1"),
            a_station_update(station_id="CP-2", state=pb.UPDATE_STATE_QUEUED, detail=""),
        ],
        "queued": 1,
        "in_progress": 1,
    }
    fields.update(overrides)
    return pb.Campaign(**fields)


def ended(campaign_id: str, second: pb.UpdateState.ValueType) -> pb.Campaign:
    """The campaign at its end: CP-1 succeeded, CP-2 as given."""
    stations = [
        a_station_update(state=pb.UPDATE_STATE_SUCCEEDED, detail="Installed"),
        a_station_update(station_id="CP-2", state=second, detail="InstallationFailed", attempts=3),
    ]
    failed = 1 if second == pb.UPDATE_STATE_FAILED else 0
    return a_campaign(
        id=campaign_id,
        state=pb.CAMPAIGN_STATE_COMPLETED,
        stations=stations,
        queued=0,
        in_progress=0,
        succeeded=2 - failed,
        failed=failed,
    )


def pages(items: list[Any], token: str) -> tuple[list[Any], str]:
    start = int(token or 0)
    following = str(start + 2) if start + 2 < len(items) else ""
    return items[start : start + 2], following


class FakeFirmware(pb_grpc.FirmwareServicer):
    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.polls = 0
        self.images = [
            pb.FirmwareImage(id=f"IMG-{n}", version=f"1.{n}", vendor="ACME", location="https://x")
            for n in range(1, 4)
        ]
        self.logs: list[pb.LogFile] = []
        self.events = [
            pb.SecurityEvent(station_id="CP-1", type="FirmwareUpdated", tech_info="1.2"),
            pb.SecurityEvent(
                station_id="CP-1", type="TamperDetectionActivated", tech_info="[lid]", critical=True
            ),
            pb.SecurityEvent(station_id="CP-2", type="SettingSystemTime"),
        ]

    def AddImage(self, request: Any, context: Any) -> pb.FirmwareImage:
        self.requests.append(request)
        image = pb.FirmwareImage()
        image.CopyFrom(request.image)
        image.id = image.id or "IMG-NEW"
        return image

    def ListImages(self, request: Any, context: Any) -> pb.ListImagesReply:
        self.requests.append(request)
        found, following = pages(self.images, request.page.page_token)
        return pb.ListImagesReply(images=found, next_page_token=following)

    def UpdateStation(self, request: Any, context: Any) -> pb.StationUpdate:
        self.requests.append(request)
        if request.image_id == "IMG-404":
            context.abort(grpc.StatusCode.NOT_FOUND, "image IMG-404 not found")
        return a_station_update(station_id=request.station_id, image_id=request.image_id)

    def GetStationUpdate(self, request: Any, context: Any) -> pb.StationUpdate:
        if request.station_id == "CP-9":
            context.abort(grpc.StatusCode.NOT_FOUND, "station CP-9 has no firmware update")
        self.polls += 1
        if self.polls < 2:
            return a_station_update(station_id=request.station_id, detail="Installing")
        if request.station_id == "CP-BAD":
            return a_station_update(
                station_id=request.station_id,
                state=pb.UPDATE_STATE_FAILED,
                detail="InvalidSignature",
            )
        return a_station_update(
            station_id=request.station_id, state=pb.UPDATE_STATE_SUCCEEDED, detail="Installed"
        )

    def CreateCampaign(self, request: Any, context: Any) -> pb.Campaign:
        self.requests.append(request)
        return a_campaign(id=request.campaign.id or "C1")

    def GetCampaign(self, request: Any, context: Any) -> pb.Campaign:
        if request.campaign_id not in ("C1", "C-OK", "C-FAIL"):
            context.abort(grpc.StatusCode.NOT_FOUND, f"campaign {request.campaign_id} not found")
        return a_campaign(id=request.campaign_id)

    def ListCampaigns(self, request: Any, context: Any) -> pb.ListCampaignsReply:
        campaigns = [a_campaign(id=f"C{n}") for n in range(1, 4)]
        found, following = pages(campaigns, request.page.page_token)
        return pb.ListCampaignsReply(campaigns=found, next_page_token=following)

    def WatchCampaign(self, request: Any, context: Any) -> Iterator[pb.Campaign]:
        campaign_id = request.campaign_id
        if campaign_id == "C-GONE":
            context.abort(grpc.StatusCode.NOT_FOUND, "campaign C-GONE not found")
        yield a_campaign(id=campaign_id)
        if campaign_id == "C-ABORT":
            yield a_campaign(id=campaign_id, state=pb.CAMPAIGN_STATE_ABORTED)
            return
        second = pb.UPDATE_STATE_FAILED if campaign_id == "C-FAIL" else pb.UPDATE_STATE_SUCCEEDED
        yield ended(campaign_id, second)

    def PauseCampaign(self, request: Any, context: Any) -> pb.Campaign:
        return a_campaign(id=request.campaign_id, state=pb.CAMPAIGN_STATE_PAUSED)

    def ResumeCampaign(self, request: Any, context: Any) -> pb.Campaign:
        return a_campaign(id=request.campaign_id)

    def AbortCampaign(self, request: Any, context: Any) -> pb.Campaign:
        if request.campaign_id == "C-DONE":
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "campaign C-DONE is COMPLETED")
        return a_campaign(id=request.campaign_id, state=pb.CAMPAIGN_STATE_ABORTED)

    def RequestLogs(self, request: Any, context: Any) -> pb.LogFile:
        self.requests.append(request)
        if request.station_id == "CP-OFF":
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "station CP-OFF is not connected")
        return pb.LogFile(
            id="L-NEW", station_id=request.station_id, kind=request.kind, status="Accepted"
        )

    def ListLogs(self, request: Any, context: Any) -> pb.ListLogsReply:
        self.requests.append(request)
        logs = [log for log in self.logs if request.station_id in ("", log.station_id)]
        found, following = pages(logs, request.page.page_token)
        return pb.ListLogsReply(logs=found, next_page_token=following)

    def ListSecurityEvents(self, request: Any, context: Any) -> pb.ListSecurityEventsReply:
        self.requests.append(request)
        found, following = pages(self.events, request.page.page_token)
        return pb.ListSecurityEventsReply(events=found, next_page_token=following)


def uploaded_logs(base_url: str) -> list[pb.LogFile]:
    """L1 and L3 are on the server (L3 with a wrong recorded checksum); L2 is not uploaded."""
    good = hashlib.sha256(LOG_CONTENT).hexdigest()

    def uploaded(log_id: str, sha256: str) -> pb.LogFile:
        return pb.LogFile(
            id=log_id,
            station_id="CP-1",
            kind="diagnostics",
            status="Uploaded",
            file_name="../diag.zip",
            size_bytes=len(LOG_CONTENT),
            sha256=sha256,
            download_url=f"{base_url}/logs/{log_id}",
            uploaded_at=UPLOADED,
        )

    return [
        uploaded("L1", good),
        pb.LogFile(id="L2", station_id="CP-2", kind="security", status="Uploading"),
        uploaded("L3", "0" * 64),
        uploaded("L4", good),
    ]


class _LogFiles(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_error(401, "an API token is required")
            return
        if self.path not in ("/logs/L1", "/logs/L3"):
            self.send_error(404, "no such uploaded log file")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(LOG_CONTENT)))
        self.end_headers()
        self.wfile.write(LOG_CONTENT)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the default handler writes every request to stderr."""


class LogServer:
    """GET /logs/{id} as the firmware service's HTTP endpoint serves it (L4 is gone: 404)."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _LogFiles)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LogServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def invoke(app: Any, address: str, tmp_path: Any, *args: str, token: str = TOKEN) -> Any:
    from typer.testing import CliRunner

    return CliRunner().invoke(
        app, [*args, "--address", address, "--token", token, "--var-dir", str(tmp_path)]
    )
