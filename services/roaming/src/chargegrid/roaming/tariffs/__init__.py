"""Tariffs we publish: billing's tariffs (newest version of each) in the OCPI 2.2.1 Tariff
model, kept as a local projection, polled for changes (billing publishes no tariff events)
and pushed to partners through the outbox."""
