"""Generated from protos/chargegrid/api/billing/v1 by `make proto`; do not edit."""
