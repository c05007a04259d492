"""Generated from protos/chargegrid/api/transaction/v1 by `make proto`; do not edit."""
