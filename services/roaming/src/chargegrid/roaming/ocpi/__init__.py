"""OCPI 2.2.1 transport: the response envelope, status codes, token authentication,
request/correlation ids, hub routing headers, pagination and the module registry.

Nothing here knows a module's objects; modules (under `chargegrid.roaming.modules`) build on
these pieces.
"""
