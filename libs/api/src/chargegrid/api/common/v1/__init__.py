"""Generated from protos/chargegrid/api/common/v1 by `make proto`; do not edit."""
