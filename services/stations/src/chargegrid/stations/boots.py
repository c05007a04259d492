"""What the gateway asks at a station's handshake and boot, served in batches.

`SecurityLookup` answers `GetStationSecurity` for every waiting call with one indexed
SELECT of the four columns it needs. `BootRegistrar` applies every waiting `RegisterBoot`
in one transaction (a group commit): the boot data is stored and the decision taken from
the stored registration before any of them is answered, exactly as one transaction per
boot would, but with one commit for hundreds of boots. Nothing is cached between calls, so
an operator's change (a password, a raised profile, an approval) counts from the next call
on, on every replica.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.platform.writer_gate import one_writer
from chargegrid.stations.batching import Coalescer
from chargegrid.stations.models import StationRow
from chargegrid.stations.policy import BootPolicy
from chargegrid.stations.security import profile_needed
from chargegrid.stations.store.liveness import register_stations
from chargegrid.stations.store.presence import BootInfo, apply_boot, mark_seen


@dataclass(frozen=True)
class SecurityFacts:
    """What the handshake needs to know of a known station."""

    required_security_profile: int
    has_password: bool
    registration_status: str

    @property
    def required_profile(self) -> int:
        return profile_needed(self.required_security_profile, self.has_password)


class SecurityLookup:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._calls: Coalescer[str, SecurityFacts | None] = Coalescer(self._lookup)

    async def __call__(self, station_id: str) -> SecurityFacts | None:
        """The station's facts, or None when it is unknown."""
        return await self._calls(station_id)

    async def _lookup(self, station_ids: Sequence[str]) -> list[SecurityFacts | None]:
        query = select(
            StationRow.id,
            StationRow.required_security_profile,
            StationRow.password_hash,
            StationRow.registration_status,
        ).where(StationRow.id.in_(sorted(set(station_ids))))
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
        found = {row[0]: SecurityFacts(row[1], bool(row[2]), row[3]) for row in rows}
        return [found.get(station_id) for station_id in station_ids]


Boot = tuple[str, BootInfo]


class BootRegistrar:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], policy: BootPolicy) -> None:
        self.sessions = sessions
        self.policy = policy
        self._calls: Coalescer[Boot, tuple[str, int]] = Coalescer(self._register)

    async def __call__(self, station_id: str, boot: BootInfo) -> tuple[str, int]:
        """(status, interval) for this boot, once it is stored."""
        return await self._calls((station_id, boot))

    async def _register(self, boots: Sequence[Boot]) -> list[tuple[str, int]]:
        ids = sorted({station_id for station_id, _ in boots})
        urgent = one_writer(self.sessions, urgent=True)  # the gateway waits on these boots
        async with urgent, self.sessions() as session, session.begin():
            stations = await _load(session, ids)
            missing = [i for i in ids if i not in stations]
            if missing:
                # At the first boot's time, as `ensure_station` would have done it.
                await register_stations(
                    session, missing, self.policy.initial_status, boots[0][1].at
                )
                stations.update(await _load(session, missing))
            decisions = []
            with session.no_autoflush:  # the rows are written once, at commit
                for station_id, boot in boots:
                    station = stations[station_id]
                    apply_boot(station, boot)
                    mark_seen(station, boot.at)
                    decisions.append(self.policy.decide(station))
        return decisions


async def _load(session: AsyncSession, ids: Sequence[str]) -> dict[str, StationRow]:
    query = select(StationRow).where(StationRow.id.in_(ids))
    return {row.id: row for row in (await session.scalars(query)).all()}
