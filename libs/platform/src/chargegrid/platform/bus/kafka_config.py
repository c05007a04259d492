"""aiokafka client arguments from service settings (security protocol, SASL, TLS)."""

from __future__ import annotations

import ssl
from typing import Any

from chargegrid.platform.settings import ServiceSettings


def client_kwargs(settings: ServiceSettings) -> dict[str, Any]:
    """Arguments shared by producers, consumers and admin clients of one service."""
    kwargs: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
        "client_id": f"chargegrid-{settings.service_name}-{settings.pod_name}",
    }
    if settings.kafka_security_protocol in {"SSL", "SASL_SSL"}:
        kwargs["ssl_context"] = ssl.create_default_context()
    if settings.kafka_sasl_mechanism:
        kwargs["sasl_mechanism"] = settings.kafka_sasl_mechanism
        kwargs["sasl_plain_username"] = settings.kafka_sasl_username
        password = settings.kafka_sasl_password
        kwargs["sasl_plain_password"] = password.get_secret_value() if password else None
    return kwargs
