"""The console: operators' versioned JSON API (`/api/v1`) over the services' gRPC APIs.

It keeps no database. Every read and command goes to the owning service over gRPC with the
caller's own bearer token (so the services enforce roles too); roles are also checked here.
Live state (station status, open sessions) is mirrored in memory from the services' watch
streams, which feeds the server-sent events and the overview.
"""
