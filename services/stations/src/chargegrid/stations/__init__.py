"""Stations registry service: sites, stations, connectors and their live status.

It also answers the boot and credential decisions the gateway asks for.
"""
