"""Generated from protos/chargegrid/api/energy/v1 by `make proto`; do not edit."""
