"""Generated from protos/chargegrid/api/events/v1 by `make proto`; do not edit."""
