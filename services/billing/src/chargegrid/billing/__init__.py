"""Billing service: what a session costs.

OCPI 2.2.1-style tariffs, running cost estimates and exactly one CDR per closed session.
"""
