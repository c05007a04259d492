"""The HTTP side of the service: stations upload log files, operators download them.

`POST` (multipart, any field name, or a raw body) and `PUT` (raw body) on
`/uploads/{token}/{file_name}` store the file under the uploads directory with its size and
SHA-256. The token is the one-time token of a requested log file: an unknown token is 404,
a used one 410. `GET /logs/{id}` downloads a file with `Authorization: Bearer <api token>`.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import UploadFile

from chargegrid.firmware.models import LogFileRow
from chargegrid.platform.grpc import TokenRegistry
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
CHUNK = 1 << 16
DEFAULT_MAX_UPLOAD_BYTES = 256 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str) -> str:
    """A file name that stays inside its directory, whatever the station sent."""
    cleaned = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip("._")
    return cleaned[:200] or "upload.log"


class TooLarge(Exception):
    """The upload is bigger than the service accepts (answered 413)."""


class Uploads:
    """Stores uploaded files and claims their one-time tokens."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        directory: Path,
        clock: Callable[[], datetime],
        max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    ) -> None:
        self.sessions = sessions
        self.directory = directory
        self.clock = clock
        self.max_bytes = max_bytes

    async def find(self, token: str) -> LogFileRow:
        async with self.sessions() as session:
            query = select(LogFileRow).where(LogFileRow.upload_token == token)
            row = (await session.scalars(query)).first()
        if row is None:
            raise HTTPException(404, "unknown upload token")
        if row.token_used:
            raise HTTPException(410, "this upload token was used already")
        return row

    async def store(self, row: LogFileRow, file_name: str, chunks: AsyncIterator[bytes]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = safe_file_name(file_name)
        relative = f"{row.id}-{name}"
        partial = self.directory / f".{relative}.{uuid.uuid4().hex[:8]}.part"
        digest = hashlib.sha256()
        size = 0
        try:
            with partial.open("wb") as handle:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise TooLarge
                    digest.update(chunk)
                    handle.write(chunk)
            async with self.sessions() as session, session.begin():
                claimed = await session.execute(
                    update(LogFileRow)
                    .where(LogFileRow.id == row.id, LogFileRow.token_used.is_(False))
                    .values(
                        token_used=True,
                        file_name=name,
                        size_bytes=size,
                        sha256=digest.hexdigest(),
                        stored_path=relative,
                        status="Uploaded",
                        uploaded_at=self.clock(),
                    )
                )
                if getattr(claimed, "rowcount", 0) != 1:
                    raise HTTPException(410, "this upload token was used already")
                os.replace(partial, self.directory / relative)
        except TooLarge as exc:
            raise HTTPException(413, f"uploads are limited to {self.max_bytes} bytes") from exc
        finally:
            partial.unlink(missing_ok=True)
        log.info("log file uploaded", station_id=row.station_id, log_id=row.id, size=size)


async def _raw(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


async def _file(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


def create_http_app(uploads: Uploads, tokens: TokenRegistry) -> FastAPI:
    app = FastAPI(title="ChargeGrid firmware", docs_url=None, redoc_url=None, openapi_url=None)

    async def receive(request: Request, token: str, file_name: str) -> JSONResponse:
        row = await uploads.find(token)
        content_type = request.headers.get("content-type", "")
        if request.method == "POST" and content_type.startswith("multipart/form-data"):
            form = await request.form()
            files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
            if not files:
                raise HTTPException(400, "the form has no file")
            await uploads.store(row, file_name or files[0].filename or "", _file(files[0]))
        else:
            await uploads.store(row, file_name, _raw(request))
        return JSONResponse({"status": "stored"}, status_code=201)

    @app.api_route("/uploads/{token}/{file_name}", methods=["POST", "PUT"])
    async def upload_named(request: Request, token: str, file_name: str) -> JSONResponse:
        return await receive(request, token, file_name)

    @app.api_route("/uploads/{token}/", methods=["POST", "PUT"])
    async def upload_unnamed(request: Request, token: str) -> JSONResponse:
        return await receive(request, token, "")

    @app.get("/logs/{log_id}")
    async def download(request: Request, log_id: str) -> FileResponse:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        principal = tokens.authenticate(credential) if scheme.lower() == "bearer" else None
        if principal is None:
            raise HTTPException(401, "an API token is required", {"WWW-Authenticate": "Bearer"})
        async with uploads.sessions() as session:
            row = await session.get(LogFileRow, log_id)
        if row is None or not row.stored_path:
            raise HTTPException(404, "no such uploaded log file")
        path = uploads.directory / row.stored_path
        if not path.is_file():
            raise HTTPException(404, "the log file is gone")
        return FileResponse(path, filename=row.file_name, media_type="application/octet-stream")

    return app
