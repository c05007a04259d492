"""Generated from protos/chargegrid/api/gateway/v1 by `make proto`; do not edit."""
