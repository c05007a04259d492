"""Generated from protos/chargegrid/api/roaming/v1 by `make proto`; do not edit."""
