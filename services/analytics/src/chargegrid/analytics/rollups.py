"""Energy rolled up per site and per network, written with the windows they sum.

A window's energy change also changes its site's 15-minute, hour and day buckets and the
network's; `Rollups` gathers those changes for a batch and adds them in the same
transaction, by the same additive upsert, so a re-delivered event still changes nothing, a
late one corrects every level at once and a rebuild's take-back subtracts from them all.
Queries for a site or the network then read one row per bucket (or per bucket and time
zone) instead of summing every EVSE's windows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.analytics.models import EnergyNetworkBucketRow, EnergySiteBucketRow
from chargegrid.analytics.upsert import add_to
from chargegrid.analytics.windows import LocalLabels

SITE_BUCKETS = EnergySiteBucketRow.__table__
NETWORK_BUCKETS = EnergyNetworkBucketRow.__table__
QUARTER, HOUR, DAY = "15m", "hour", "day"

SiteKey = tuple[str, str, int]  # (site id, grain, bucket start)
NetworkKey = tuple[str, int, str]  # (grain, bucket start, label)


@dataclass
class Rollups:
    """What a batch adds to the site and network buckets: one row per key and statement."""

    sites: dict[SiteKey, tuple[str, float]] = field(default_factory=dict)
    network: dict[NetworkKey, float] = field(default_factory=dict)

    def add(self, site_id: str, window_s: int, labels: LocalLabels, wh: float) -> None:
        hour_s = int(labels.hour_start.timestamp())
        day_s = int(labels.day_start.timestamp())
        for grain, start, label in (
            (QUARTER, window_s, labels.quarter),
            (HOUR, hour_s, labels.hour),
            (DAY, day_s, labels.day),
        ):
            key = (site_id, grain, start)
            found = self.sites.get(key)
            self.sites[key] = (label, wh if found is None else found[1] + wh)
            # The network labels 15-minute windows in UTC, so they share one row per instant.
            net_key = (grain, start, "" if grain == QUARTER else label)
            self.network[net_key] = self.network.get(net_key, 0.0) + wh

    async def write(self, session: AsyncSession) -> None:
        site_rows = [
            {"site_id": site, "grain": grain, "bucket_start": start, "label": label, "wh": wh}
            for (site, grain, start), (label, wh) in self.sites.items()
        ]
        network_rows = [
            {"grain": grain, "bucket_start": start, "label": label, "wh": wh}
            for (grain, start, label), wh in self.network.items()
        ]
        await add_to(session, SITE_BUCKETS, site_rows, ["site_id", "grain", "bucket_start"], ["wh"])
        await add_to(
            session, NETWORK_BUCKETS, network_rows, ["grain", "bucket_start", "label"], ["wh"]
        )
