"""Generated from protos/chargegrid/api/stations/v1 by `make proto`; do not edit."""
