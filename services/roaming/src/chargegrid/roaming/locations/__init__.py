"""Locations we publish: the stations service's sites as OCPI Locations, their stations'
EVSEs with live status from station.events.v1, kept as a local projection so GETs never wait
on another service and every change is pushed to partners through the outbox."""
