"""Generated from protos/chargegrid/api/auth/v1 by `make proto`; do not edit."""
