"""The electric vehicle on the other end of the cable: a battery that fills and tapers.

A CSMS's smart charging, billing and analytics only look plausible against load that behaves
like a car: constant power until the battery is nearly full, then a taper, then nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EVSpec:
    """The car model: battery size, where it starts and how hard it can charge."""

    capacity_kwh: float = 60.0
    initial_soc_percent: float = 20.0
    max_power_w: float = 11_000.0
    target_soc_percent: float = 100.0
    taper_from_soc_percent: float = 80.0
    taper_floor_fraction: float = 0.05


class ElectricVehicle:
    """One plugged-in car whose state of charge rises with the energy it absorbs."""

    def __init__(self, spec: EVSpec) -> None:
        self.spec = spec
        self.stored_wh = spec.capacity_kwh * 1000.0 * spec.initial_soc_percent / 100.0

    @property
    def capacity_wh(self) -> float:
        return self.spec.capacity_kwh * 1000.0

    @property
    def soc_percent(self) -> float:
        return 100.0 * self.stored_wh / self.capacity_wh

    @property
    def full(self) -> bool:
        """True once the target state of charge is reached (within a watt-hour)."""
        target_wh = self.capacity_wh * self.spec.target_soc_percent / 100.0
        return self.stored_wh >= target_wh - 1.0

    def acceptance_w(self) -> float:
        """The power the car asks for now: full power, then a linear taper to a floor."""
        if self.full:
            return 0.0
        spec = self.spec
        soc = self.soc_percent
        if soc <= spec.taper_from_soc_percent:
            return spec.max_power_w
        span = max(spec.target_soc_percent - spec.taper_from_soc_percent, 1e-9)
        fraction = max((spec.target_soc_percent - soc) / span, spec.taper_floor_fraction)
        return spec.max_power_w * min(fraction, 1.0)

    def absorb(self, offered_wh: float) -> float:
        """Store up to `offered_wh`; returns what the battery actually took."""
        target_wh = self.capacity_wh * self.spec.target_soc_percent / 100.0
        taken = max(0.0, min(offered_wh, target_wh - self.stored_wh))
        self.stored_wh += taken
        return taken
