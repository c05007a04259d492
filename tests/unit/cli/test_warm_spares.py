"""--warm-spares: which services the dev stack keeps a warm spare of."""

from __future__ import annotations

import pytest

from chargegrid.cli.dev import spares_from

KNOWN = ["gateway", "stations", "session", "console"]


def test_a_comma_list_names_the_services_and_all_or_none_say_so() -> None:
    assert spares_from("session, gateway", KNOWN) == {"session", "gateway"}
    assert spares_from("all", KNOWN) == set(KNOWN)
    assert spares_from("none", KNOWN) == frozenset()
    assert spares_from("", KNOWN) == frozenset()


def test_a_misspelt_service_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown service"):
        spares_from("sesion", KNOWN)
