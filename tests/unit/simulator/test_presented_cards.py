"""A card presented at a running station (`Station.present_card`), against the CSMS double:
a 1.6 card with the starting card's parentIdTag stops the transaction and is the idTag of
its StopTransaction; a card of another group does not (the 2.x flows run through the whole
stack in tests/e2e/test_ocpp201_blocks_through_the_stack.py)."""

from __future__ import annotations

import asyncio

from .builders import StationFactory
from .csms_double import CsmsDouble


async def test_a_16_card_with_the_same_parent_id_tag_stops_the_transaction(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    csms.parents.update({"ANNA": "HOUSE", "BEN": "HOUSE", "EVE": "OTHER"})
    station = make_station("1.6")
    await station.start()
    await station.wait_registered(5)
    session = station.plug_in(1, id_tag="ANNA")
    await asyncio.wait_for(session.transaction_started.wait(), 5)
    assert session.group_id == "HOUSE"

    assert await station.present_card("EVE") == "not_allowed"
    assert await station.present_card("BEN") == "stopped"
    await asyncio.wait_for(session.finished.wait(), 5)
    (stop,) = await csms.wait_for(station.station_id, "StopTransaction")
    assert (stop["idTag"], stop["reason"]) == ("BEN", "Local")
    assert csms.schema_violations() == []
