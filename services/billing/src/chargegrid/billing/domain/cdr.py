"""A charge detail record: the priced, final account of one closed session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from chargegrid.billing.domain.engine import CostBreakdown


@dataclass(frozen=True)
class Cdr:
    id: str
    session_id: str
    station_id: str
    site_id: str
    id_token: str
    id_token_type: str
    started_at: datetime
    ended_at: datetime
    energy_wh: Decimal
    total_time_s: int
    charging_time_s: int
    parking_time_s: int
    cost: CostBreakdown
    timezone: str
    created_at: datetime
