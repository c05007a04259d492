"""`chargegrid tokens ...`: who may charge — add, update, inspect, block, CSV import and export.

CSV columns (header required): id_token, type, status, expires_at, group_id, owner_ref,
allowed_site_ids (separated by `;`), source, max_concurrent (transactions at once; empty or
0 = the group's setting, else one), language, personal_message (what 2.x stations show the
driver; optional columns, so older files still import). Types and statuses use the OCPP spelling
(ISO14443, eMAID, Central, ...; Accepted, Blocked, Expired, Invalid).
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import grpc
import typer
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.api.authorization.v1.authorization_pb2_grpc import AuthorizationStub
from chargegrid.cli.api import AddressOption, JsonOption, TokenOption, VarDirOption, call, paged
from chargegrid.cli.output import as_dict, fields, out, print_json, table
from chargegrid.platform.identifiers import ID_TOKEN

if TYPE_CHECKING:
    from chargegrid.api.authorization.v1.authorization_pb2_grpc import AuthorizationAsyncStub

V = TypeVar("V")
tokens_app = typer.Typer(help="Id tokens (RFID cards, eMAIDs, app tokens) and their status.")

TYPES = {
    "ISO14443": pb.TOKEN_TYPE_ISO14443,
    "ISO15693": pb.TOKEN_TYPE_ISO15693,
    "eMAID": pb.TOKEN_TYPE_EMAID,
    "Central": pb.TOKEN_TYPE_CENTRAL,
    "KeyCode": pb.TOKEN_TYPE_KEY_CODE,
    "MacAddress": pb.TOKEN_TYPE_MAC_ADDRESS,
    "NoAuthorization": pb.TOKEN_TYPE_NO_AUTHORIZATION,
    "Local": pb.TOKEN_TYPE_LOCAL,
}
STATUSES = {
    "Accepted": pb.AUTHORIZATION_STATUS_ACCEPTED,
    "Blocked": pb.AUTHORIZATION_STATUS_BLOCKED,
    "Expired": pb.AUTHORIZATION_STATUS_EXPIRED,
    "Invalid": pb.AUTHORIZATION_STATUS_INVALID,
}
TYPE_NAMES = {value: name for name, value in TYPES.items()}
STATUS_NAMES = {value: name for name, value in STATUSES.items()}
CSV_COLUMNS = [
    "id_token",
    "type",
    "status",
    "expires_at",
    "group_id",
    "owner_ref",
    "allowed_site_ids",
    "source",
    "max_concurrent",
    "language",
    "personal_message",
]
PAGE = 1000
MAX_CONCURRENT_HELP = "Transactions the card may hold at once (0 = its group's, else 1)."


def _pick(table_: Mapping[str, V], value: str, what: str) -> V:
    for name, number in table_.items():
        if name.lower() == value.strip().lower():
            return number
    raise typer.BadParameter(f"unknown {what} {value!r}; one of {', '.join(table_)}")


def token_type(value: str) -> pb.TokenType.ValueType:
    return _pick(TYPES, value, "token type")


def token_status(value: str) -> pb.AuthorizationStatus.ValueType:
    return _pick(STATUSES, value, "status")


def parse_expiry(value: str | None) -> Timestamp | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise typer.BadParameter(f"give a time zone (e.g. Z) in {value!r}")
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def when(stamp: Timestamp) -> str:
    return stamp.ToJsonString() if stamp.seconds or stamp.nanos else ""


def row(token: pb.Token) -> list[str]:
    return [
        token.id_token,
        TYPE_NAMES.get(token.type, ""),
        STATUS_NAMES.get(token.status, ""),
        when(token.expires_at),
        token.group_id,
        token.owner_ref,
        ";".join(token.allowed_site_ids),
        token.source,
        str(token.max_concurrent_transactions or ""),
        token.language,
        token.personal_message,
    ]


MESSAGE_HELP = (
    "Personal message a 2.x station shows the driver when the card is presented "
    "(at most 512 characters)."
)
LANGUAGE_HELP = "The driver's language, e.g. 'nl' or 'en-GB' (at most 8 characters)."


def _stub(channel: grpc.aio.Channel) -> AuthorizationAsyncStub:
    return AuthorizationStub(channel)


async def _list(channel: grpc.aio.Channel, request: pb.ListTokensRequest) -> list[pb.Token]:
    return await paged(_stub(channel).ListTokens, request, "tokens", PAGE)


async def _find(channel: grpc.aio.Channel, id_token: str, kind: str | None) -> pb.Token:
    """The token with this id (and type, when given); asks for --type when ambiguous."""
    if kind:
        found: pb.Token = await _stub(channel).GetToken(
            pb.GetTokenRequest(id_token=id_token, type=token_type(kind))
        )
        return found
    matches = [
        t
        for t in await _list(channel, pb.ListTokensRequest(id_prefix=id_token))
        if t.id_token == id_token
    ]
    if not matches:
        # Let the service say NOT_FOUND in its own words.
        missing: pb.Token = await _stub(channel).GetToken(
            pb.GetTokenRequest(id_token=id_token, type=pb.TOKEN_TYPE_ISO14443)
        )
        return missing
    if len(matches) > 1:
        kinds = ", ".join(TYPE_NAMES.get(t.type, "?") for t in matches)
        raise typer.BadParameter(f"{id_token} exists as {kinds}: say which with --type")
    return matches[0]


@tokens_app.command("add")
def add_token(
    id_token: Annotated[str, typer.Argument(help="The idTag / idToken value.")],
    kind: Annotated[str, typer.Option("--type", help="OCPP IdTokenType.")] = "ISO14443",
    status: Annotated[str, typer.Option(help="Accepted, Blocked, Expired, Invalid.")] = "Accepted",
    expires: Annotated[str | None, typer.Option(help="Expiry, ISO 8601 with zone.")] = None,
    group: Annotated[str | None, typer.Option(help="Group (parent) id token.")] = None,
    owner: Annotated[str | None, typer.Option(help="Owner reference (customer, fleet).")] = None,
    site: Annotated[
        list[str] | None, typer.Option("--site", help="Allowed only at this site (repeatable).")
    ] = None,
    max_concurrent: Annotated[
        int, typer.Option("--max-concurrent", min=0, help=MAX_CONCURRENT_HELP)
    ] = 0,
    message: Annotated[str | None, typer.Option("--message", help=MESSAGE_HELP)] = None,
    language: Annotated[str | None, typer.Option("--language", help=LANGUAGE_HELP)] = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Add a token (Accepted unless told otherwise)."""
    new = pb.Token(
        id_token=id_token,
        type=token_type(kind),
        status=token_status(status),
        group_id=group or "",
        owner_ref=owner or "",
        allowed_site_ids=site or [],
        source="local",
        max_concurrent_transactions=max_concurrent,
        personal_message=message or "",
        language=language or "",
    )
    if (expiry := parse_expiry(expires)) is not None:
        new.expires_at.CopyFrom(expiry)

    async def create(channel: grpc.aio.Channel) -> pb.Token:
        created: pb.Token = await _stub(channel).CreateToken(pb.CreateTokenRequest(token=new))
        return created

    created = call("authorization", address, token, var_dir, create)
    if json_output:
        print_json(as_dict(created))
    else:
        out.print(f"token {created.id_token} ({TYPE_NAMES.get(created.type)}) added")


@tokens_app.command("update")
def update_token(
    id_token: Annotated[str, typer.Argument(help="The idTag / idToken value.")],
    kind: Annotated[str | None, typer.Option("--type", help="OCPP IdTokenType.")] = None,
    max_concurrent: Annotated[
        int | None, typer.Option("--max-concurrent", min=0, help=MAX_CONCURRENT_HELP)
    ] = None,
    group: Annotated[str | None, typer.Option(help="Group (parent) id token; '' for none.")] = None,
    owner: Annotated[str | None, typer.Option(help="Owner reference (customer, fleet).")] = None,
    expires: Annotated[str | None, typer.Option(help="Expiry, ISO 8601 with zone.")] = None,
    message: Annotated[
        str | None, typer.Option("--message", help=MESSAGE_HELP + " '' for none.")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help=LANGUAGE_HELP + " '' for none.")
    ] = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Change what is given of a token; the rest stays as stored."""
    given = (max_concurrent, group, owner, expires, message, language)
    if all(value is None for value in given):
        raise typer.BadParameter(
            "give at least one of --max-concurrent, --group, --owner, --expires, --message, "
            "--language"
        )
    expiry = parse_expiry(expires)

    async def update(channel: grpc.aio.Channel) -> pb.Token:
        current = await _find(channel, id_token, kind)
        if max_concurrent is not None:
            current.max_concurrent_transactions = max_concurrent
        if group is not None:
            current.group_id = group
        if owner is not None:
            current.owner_ref = owner
        if expiry is not None:
            current.expires_at.CopyFrom(expiry)
        if message is not None:
            current.personal_message = message
        if language is not None:
            current.language = language
        updated: pb.Token = await _stub(channel).UpdateToken(pb.UpdateTokenRequest(token=current))
        return updated

    updated = call("authorization", address, token, var_dir, update)
    if json_output:
        print_json(as_dict(updated))
    else:
        out.print(f"token {updated.id_token} ({TYPE_NAMES.get(updated.type)}) updated")


def _max_concurrent(cell: str | None) -> int:
    text = (cell or "").strip()
    if not text:
        return 0
    if not text.isdigit():
        raise typer.BadParameter(f"max_concurrent must be a whole number >= 0, got {text!r}")
    return int(text)


@tokens_app.command("list")
def list_tokens(
    prefix: Annotated[str | None, typer.Option(help="Ids starting with this.")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    group: Annotated[str | None, typer.Option()] = None,
    owner: Annotated[str | None, typer.Option()] = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Tokens matching the filters (all pages)."""
    request = pb.ListTokensRequest(
        id_prefix=prefix or "",
        status=token_status(status) if status else pb.AUTHORIZATION_STATUS_UNSPECIFIED,
        group_id=group or "",
        owner_ref=owner or "",
    )
    tokens = call("authorization", address, token, var_dir, lambda c: _list(c, request))
    if json_output:
        print_json([as_dict(t) for t in tokens])
        return
    table(f"{len(tokens)} token(s)", CSV_COLUMNS, (row(t) for t in tokens))


@tokens_app.command("show")
def show_token(
    id_token: Annotated[str, typer.Argument()],
    kind: Annotated[str | None, typer.Option("--type", help="OCPP IdTokenType.")] = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """One token."""
    found = call("authorization", address, token, var_dir, lambda c: _find(c, id_token, kind))
    if json_output:
        print_json(as_dict(found))
        return
    fields(f"token {found.id_token}", zip(CSV_COLUMNS[1:], row(found)[1:], strict=True))


def _set_status(
    id_token: str,
    kind: str | None,
    status: int,
    address: str | None,
    token: str | None,
    var_dir: Path,
) -> pb.Token:
    async def update(channel: grpc.aio.Channel) -> pb.Token:
        current = await _find(channel, id_token, kind)
        current.status = status  # type: ignore[assignment]
        updated: pb.Token = await _stub(channel).UpdateToken(pb.UpdateTokenRequest(token=current))
        return updated

    return call("authorization", address, token, var_dir, update)


@tokens_app.command("block")
def block_token(
    id_token: Annotated[str, typer.Argument()],
    kind: Annotated[str | None, typer.Option("--type", help="OCPP IdTokenType.")] = None,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Block a token: refused from now on, and on stations' local lists."""
    updated = _set_status(id_token, kind, pb.AUTHORIZATION_STATUS_BLOCKED, address, token, var_dir)
    out.print(f"token {updated.id_token} blocked")


@tokens_app.command("unblock")
def unblock_token(
    id_token: Annotated[str, typer.Argument()],
    kind: Annotated[str | None, typer.Option("--type", help="OCPP IdTokenType.")] = None,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Accept a blocked token again."""
    updated = _set_status(id_token, kind, pb.AUTHORIZATION_STATUS_ACCEPTED, address, token, var_dir)
    out.print(f"token {updated.id_token} accepted")


def _sites(cell: str | None) -> list[str]:
    return [site.strip() for site in (cell or "").split(";") if site.strip()]


def read_csv(text: str) -> list[pb.Token]:
    """Tokens from CSV text; any bad line stops the import before anything is sent."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"id_token"} - set(reader.fieldnames or [])
    if missing:
        raise typer.BadParameter("the CSV needs a header with at least an id_token column")
    tokens = []
    for line, record in enumerate(reader, start=2):
        try:
            item = pb.Token(
                id_token=(record.get("id_token") or "").strip(),
                type=token_type(record.get("type") or "ISO14443"),
                status=token_status(record.get("status") or "Accepted"),
                group_id=(record.get("group_id") or "").strip(),
                owner_ref=(record.get("owner_ref") or "").strip(),
                allowed_site_ids=[
                    s.strip()
                    for s in (record.get("allowed_site_ids") or "").split(";")
                    if s.strip()
                ],
                source=(record.get("source") or "local").strip(),
                max_concurrent_transactions=_max_concurrent(record.get("max_concurrent")),
                language=(record.get("language") or "").strip(),
                personal_message=record.get("personal_message") or "",
            )
            if (expiry := parse_expiry(record.get("expires_at"))) is not None:
                item.expires_at.CopyFrom(expiry)
        except typer.BadParameter as exc:
            raise typer.BadParameter(f"line {line}: {exc.message}") from None
        if not item.id_token:
            raise typer.BadParameter(f"line {line}: empty id_token")
        problem = ID_TOKEN.problem(item.id_token)
        if problem is not None:  # the same rule the service applies, before anything is sent
            raise typer.BadParameter(f"line {line}: id_token {problem} ({ID_TOKEN.description})")
        tokens.append(item)
    return tokens


@tokens_app.command("import")
def import_tokens(
    path: Annotated[Path, typer.Argument(help="CSV file ('-' for stdin).")],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Create or replace tokens from CSV, all or nothing."""
    text = sys.stdin.read() if str(path) == "-" else path.read_text()
    tokens = read_csv(text)

    async def send(channel: grpc.aio.Channel) -> pb.ImportTokensReply:
        reply: pb.ImportTokensReply = await _stub(channel).ImportTokens(
            pb.ImportTokensRequest(tokens=tokens)
        )
        return reply

    reply = call("authorization", address, token, var_dir, send)
    if json_output:
        print_json({"created": reply.created, "updated": reply.updated})
    else:
        out.print(f"{reply.created} created, {reply.updated} updated")


@tokens_app.command("export")
def export_tokens(
    path: Annotated[Path, typer.Argument(help="CSV file ('-' for stdout).")] = Path("-"),
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Every token as CSV (the import format)."""
    tokens = call(
        "authorization", address, token, var_dir, lambda c: _list(c, pb.ListTokensRequest())
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(row(t) for t in tokens)
    if str(path) == "-":
        sys.stdout.write(buffer.getvalue())
    else:
        path.write_text(buffer.getvalue())
        out.print(f"{len(tokens)} token(s) written to {path}")
