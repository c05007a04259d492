"""Command groups loaded when they are run, so `chargegrid --help` imports almost nothing.

Each group of `chargegrid` (stations, sessions, ops, ...) lives in a module that pulls in
gRPC, the generated protos and rich. The top-level group lists them from a table of names and
one-line helps, and imports a module only when its group is the command being run. Help is
plain click help: typer's rich help alone costs more start-up time than the targets allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

import typer

# typer carries its own copy of click; its groups hold commands of that copy's classes.
from typer import _click as click
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class LazyGroup:
    """Where a command group lives (`module:attribute`, a `typer.Typer`) and its help line."""

    module: str
    attribute: str
    help: str

    def load(self) -> TyperGroup:
        sub_app = getattr(import_module(self.module), self.attribute)
        # Plain click help, as at the top: typer's rich help imports pygments and markdown
        # (about 0.5 s), more than the whole command may take.
        sub_app.rich_markup_mode = None
        # get_group, not get_command: typer would turn a one-command app into that command.
        return typer.main.get_group(sub_app)


class _Placeholder(TyperCommand):
    """Stands for a group in the help listing until the group is run."""


class LazyTyperGroup(TyperGroup):
    """A TyperGroup whose `groups` are imported on first resolution, not at start-up."""

    groups: dict[str, LazyGroup] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, entry in self.groups.items():
            self.commands.setdefault(name, _Placeholder(name, help=entry.help))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and isinstance(command, _Placeholder):
            command = self.commands[name] = self.groups[name].load()
        return name, command, rest
