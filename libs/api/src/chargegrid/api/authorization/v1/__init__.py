"""Generated from protos/chargegrid/api/authorization/v1 by `make proto`; do not edit."""
