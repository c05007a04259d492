"""OCPP 2.0.1 station-initiated actions (also serving 2.1, validated with its own schemas)."""
