"""The CA the settings name: operator-provided files, else one of our own under ca_dir."""

from __future__ import annotations

from datetime import timedelta

from chargegrid.stations.certificates.authority import (
    AuthorityError,
    CertificateAuthority,
    load_authority,
    load_or_create,
)
from chargegrid.stations.clock import Clock
from chargegrid.stations.settings import StationsSettings


def authorities(
    settings: StationsSettings, clock: Clock
) -> tuple[CertificateAuthority, CertificateAuthority | None]:
    """(the CSMS CA, the V2G CA or None); a half-configured CA is an error at start."""
    if bool(settings.ca_cert_file) != bool(settings.ca_key_file):
        raise AuthorityError("ca_cert_file and ca_key_file are configured together")
    if settings.ca_cert_file and settings.ca_key_file:
        csms = load_authority(settings.ca_cert_file, settings.ca_key_file)
    else:
        csms = load_or_create(
            settings.certificate_authority_dir,
            clock(),
            timedelta(days=settings.ca_validity_days),
        )
    if bool(settings.v2g_ca_cert_file) != bool(settings.v2g_ca_key_file):
        raise AuthorityError("v2g_ca_cert_file and v2g_ca_key_file are configured together")
    v2g = None
    if settings.v2g_ca_cert_file and settings.v2g_ca_key_file:
        v2g = load_authority(settings.v2g_ca_cert_file, settings.v2g_ca_key_file)
    return csms, v2g
