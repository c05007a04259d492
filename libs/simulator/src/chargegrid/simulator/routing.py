"""Typed doors into the `ocpp` package's routing decorators.

`ocpp` ships without type information; wrapping `on` keeps strict mypy on our handlers
instead of letting one untyped decorator erase their signatures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ocpp.routing import on as _on

Handler = TypeVar("Handler", bound=Callable[..., Any])


def on(action: str) -> Callable[[Handler], Handler]:
    """Register the decorated method as the handler of the CSMS-initiated `action`."""
    decorator: Callable[[Handler], Handler] = _on(action)
    return decorator
