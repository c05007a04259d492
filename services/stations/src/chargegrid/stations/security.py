"""What a station's connections must present: the security profile rule of the registry.

A station needs at least the profile the operator set (`required_security_profile`), and at
least profile 1 (HTTP Basic) as soon as it has a password: a station with a password never
connects without it. Profiles only go up outside the 2.0.1 upgrade flow's control, so a
stolen operator token cannot quietly weaken a station.
"""

from __future__ import annotations

from chargegrid.platform.grpc.errors import FailedPrecondition
from chargegrid.stations.models import StationRow


def required_profile(station: StationRow) -> int:
    """The lowest security profile a connection of this station may use."""
    return profile_needed(station.required_security_profile, bool(station.password_hash))


def profile_needed(required_security_profile: int, has_password: bool) -> int:
    """The same rule on the two facts it reads."""
    return max(required_security_profile, 1 if has_password else 0)


def raise_profile(station: StationRow, profile: int) -> None:
    """Raise the required profile; lowering it is refused (FAILED_PRECONDITION)."""
    if profile < station.required_security_profile:
        raise FailedPrecondition(
            f"station {station.id!r} requires security profile "
            f"{station.required_security_profile}: a profile is never lowered"
        )
    station.required_security_profile = profile


def adopt_upgraded_profile(station: StationRow, connected_with: int) -> bool:
    """A05: the upgraded profile becomes required once the station connects with it."""
    pending = station.pending_security_profile
    if not pending or connected_with < pending:
        return False
    station.required_security_profile = max(station.required_security_profile, pending)
    station.pending_security_profile = 0
    return True
