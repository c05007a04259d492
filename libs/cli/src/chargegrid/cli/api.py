"""How operator commands reach the services: address, admin token, errors a person can read.

Defaults fit `make run`: each service on its default gRPC port on 127.0.0.1 (or
`CHARGEGRID_<SERVICE>_ADDRESS`), and the admin token `make run` wrote to `var/admin.token`
(or `CHARGEGRID_TOKEN`, or `--token`). A gRPC failure becomes one line on stderr and exit
code 1 (2 for bad usage), never a traceback.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

import grpc
import typer
from rich.console import Console

from chargegrid.platform.grpc.client import create_channel
from chargegrid.platform.ports import GRPC_PORTS

T = TypeVar("T")
#: Errors: one line each, never wrapped, so that scripts can grep them.
err = Console(stderr=True, soft_wrap=True)

TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="CHARGEGRID_TOKEN",
        help="API token (default: the admin token in var/admin.token).",
        show_default=False,
    ),
]
AddressOption = Annotated[
    str | None,
    typer.Option("--address", help="The service's gRPC address (HOST:PORT).", show_default=False),
]
VarDirOption = Annotated[
    Path, typer.Option("--var-dir", envvar="CHARGEGRID_VAR_DIR", help="Where make run keeps state.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


class PagedRequest(Protocol):
    """A List request of our APIs: it carries a `page` (chargegrid.api.common.v1.PageRequest)."""

    @property
    def page(self) -> Any: ...


R = TypeVar("R", bound=PagedRequest)


async def paged(
    list_call: Callable[[R], Awaitable[Any]],
    request: R,
    items: str,
    page_size: int,
    limit: int | None = None,
) -> list[Any]:
    """Every item of a paged List RPC (at most `limit`): `request.page` is set for each page
    and the reply's repeated field `items` collected until there is no next page."""
    found: list[Any] = []
    token = ""
    while True:
        request.page.page_size = page_size
        request.page.page_token = token
        reply = await list_call(request)
        found.extend(getattr(reply, items))
        token = reply.next_page_token
        if limit is not None and len(found) >= limit:
            return found[:limit]
        if not token:
            return found


def service_address(service: str, explicit: str | None = None) -> str:
    if explicit:
        return explicit
    from_env = os.environ.get(f"CHARGEGRID_{service.upper()}_ADDRESS")
    return from_env or f"127.0.0.1:{GRPC_PORTS[service]}"


def api_token(explicit: str | None, var_dir: Path) -> str:
    """The token to present: --token, else CHARGEGRID_TOKEN, else var/admin.token.

    An empty one given on purpose is an error: falling back to the admin token would run
    the command with rights the caller did not ask for."""
    if explicit is None and os.environ.get("CHARGEGRID_TOKEN") == "":
        explicit = ""  # click reads an empty variable as unset
    if explicit is not None:
        if not explicit.strip():
            err.print("error: the API token is empty (--token / CHARGEGRID_TOKEN)")
            raise typer.Exit(2)
        return explicit.strip()
    path = var_dir / "admin.token"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        err.print(
            f"error: no API token: {path} does not exist (run `make run` once) "
            "and neither --token nor CHARGEGRID_TOKEN is set"
        )
        raise typer.Exit(2) from None


def call(
    service: str,
    address: str | None,
    token: str | None,
    var_dir: Path,
    work: Callable[[grpc.aio.Channel], Awaitable[T]],
) -> T:
    """Run `work` with a channel to `service`; gRPC errors end the command with a message."""
    target = service_address(service, address)
    secret = api_token(token, var_dir)

    async def run() -> T:
        channel = create_channel(target, token=secret, default_timeout_s=30)
        try:
            return await work(channel)
        finally:
            await channel.close()

    try:
        return asyncio.run(run())
    except grpc.aio.AioRpcError as exc:
        raise typer.Exit(report_rpc_error(service, target, exc)) from None


def is_wrong_service(exc: grpc.aio.AioRpcError) -> bool:
    """gRPC's own answer for a method the server lacks: the address is another service."""
    code, details = exc.code(), (exc.details() or "").lower()
    return code == grpc.StatusCode.UNIMPLEMENTED and "method not found" in details


def rpc_error_message(service: str, target: str, exc: grpc.aio.AioRpcError) -> str:
    """One line an operator can act on, for a failed call to `service` at `target`."""
    code = exc.code()
    if code == grpc.StatusCode.UNAVAILABLE:
        return f"the {service} service is not reachable at {target} (is it running?)"
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return "the API token was refused (UNAUTHENTICATED)"
    if is_wrong_service(exc):
        return (
            f"{target} does not answer this {service} command: it is another service, "
            f"or an older {service} service (check --address / "
            f"CHARGEGRID_{service.upper()}_ADDRESS)"
        )
    return f"{code.name}: {exc.details()}"


def report_rpc_error(service: str, target: str, exc: grpc.aio.AioRpcError) -> int:
    err.print(f"error: {rpc_error_message(service, target, exc)}")
    return 1
