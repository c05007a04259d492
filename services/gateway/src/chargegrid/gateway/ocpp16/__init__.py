"""OCPP 1.6J (with the security extension): one module per family of actions, one table."""
