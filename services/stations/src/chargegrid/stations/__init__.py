"""Stations registry service: the network's sites, stations and connectors, and the boot and credential decisions the gateway asks for."""
