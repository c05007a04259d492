"""Generated from protos/chargegrid/api/analytics/v1 by `make proto`; do not edit."""
