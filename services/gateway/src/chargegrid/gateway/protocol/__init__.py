"""OCPP-J framing, error codes per version and compiled schema validation; no I/O here."""
