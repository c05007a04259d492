"""Roaming service: the OCPI 2.2.1 CPO role towards partner eMSPs and hubs.

Partners register (credentials, both directions), pull locations and tariffs, and receive
every change pushed through a durable outbox. Operators manage partners over gRPC
(`RoamingAdmin`) and the `chargegrid roaming` CLI.
"""
