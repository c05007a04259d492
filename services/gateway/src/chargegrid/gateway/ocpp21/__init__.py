"""OCPP 2.1: the 2.0.1 handlers, validated against the 2.1 schemas."""
