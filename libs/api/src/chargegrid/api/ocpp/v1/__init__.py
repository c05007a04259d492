"""Generated from protos/chargegrid/api/ocpp/v1 by `make proto`; do not edit."""
