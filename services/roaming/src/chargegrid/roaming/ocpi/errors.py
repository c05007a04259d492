"""Every failure answers in the OCPI envelope: ours (OcpiError), FastAPI's validation errors
(malformed JSON, a bad enum value, a missing field: 2001) and routing errors (unknown path:
404 with 2003; wrong method: 405)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request

from chargegrid.platform.logging import get_logger
from chargegrid.roaming.ocpi.envelope import envelope
from chargegrid.roaming.ocpi.status import OcpiError, Status

log = get_logger(__name__)


def _describe(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OcpiError)
    async def ocpi_error(request: Request, exc: OcpiError) -> JSONResponse:
        return JSONResponse(envelope(status=exc.status, message=exc.message), exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        body = envelope(status=Status.INVALID_PARAMETERS, message=_describe(exc))
        return JSONResponse(body, 400)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        status = Status.UNKNOWN_LOCATION if exc.status_code == 404 else Status.CLIENT_ERROR
        message = "no such OCPI object or module" if exc.status_code == 404 else str(exc.detail)
        return JSONResponse(envelope(status=status, message=message), exc.status_code)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("OCPI request failed", path=request.url.path)
        return JSONResponse(envelope(status=Status.SERVER_ERROR, message="internal error"), 500)
