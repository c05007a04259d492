"""Generated from protos/chargegrid/api/firmware/v1 by `make proto`; do not edit."""
