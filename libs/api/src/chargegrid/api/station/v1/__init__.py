"""Generated from protos/chargegrid/api/station/v1 by `make proto`; do not edit."""
