"""Firmware service: remote management at fleet scale.

Firmware images and campaigns, diagnostics and log uploads, and security events.
"""
