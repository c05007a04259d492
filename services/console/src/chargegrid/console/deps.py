"""What routes get from the application: the backends and the live mirror."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from chargegrid.console.backends import Backends

if TYPE_CHECKING:
    from chargegrid.console.live import LiveMirror


def backends(request: Request) -> Backends:
    found: Backends = request.app.state.backends
    return found


def live(request: Request) -> LiveMirror:
    found: LiveMirror = request.app.state.live
    return found
