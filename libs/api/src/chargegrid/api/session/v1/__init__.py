"""Generated from protos/chargegrid/api/session/v1 by `make proto`; do not edit."""
