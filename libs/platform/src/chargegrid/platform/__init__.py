"""Shared runtime of every ChargeGrid service.

Settings, structured logging, telemetry, the Kafka event bus, gRPC servers and clients,
database access and the embedded development broker live here, each in a small module with
one job, so that services hold only their own domain logic. Services depend on this package
and on `chargegrid.api`, never on each other.
"""
