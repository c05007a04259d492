"""Command output: rich tables for people, JSON for scripts (`--json`).

Piped or redirected, tables are as wide as their content: cut to rich's 80 columns, ids
could not be copied out of them.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from rich.console import Console
from rich.table import Table

#: Width of output that goes to no terminal: wide enough never to cut a table.
UNBOUNDED_WIDTH = 10_000


def _width() -> int | None:
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return None  # the terminal's (or the COLUMNS the caller chose)
    return UNBOUNDED_WIDTH


out = Console(width=_width())


def as_dict(message: Message) -> dict[str, Any]:
    return MessageToDict(message, preserving_proto_field_name=True)


def print_json(data: Any) -> None:
    # Plain print: rich would wrap long lines and break the JSON for scripts.
    print(json.dumps(data, indent=2, default=str))


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    view = Table(title=title, title_justify="left")
    for column in columns:
        view.add_column(column)
    count = 0
    for row in rows:
        view.add_row(*("" if cell is None else str(cell) for cell in row))
        count += 1
    out.print(view)
    if count == 0:
        out.print("(none)")


def fields(title: str, pairs: Iterable[tuple[str, Any]]) -> None:
    view = Table(title=title, title_justify="left", show_header=False)
    view.add_column("field", style="bold")
    view.add_column("value")
    for name, value in pairs:
        view.add_row(name, "" if value is None else str(value))
    out.print(view)


def enum_label(name: str, prefix: str) -> str:
    """`REGISTRATION_STATUS_ACCEPTED` -> `accepted`."""
    return name.removeprefix(prefix).lower()
