"""Tests of chargegrid.simulator against a minimal CSMS double (a package, for its helpers)."""
