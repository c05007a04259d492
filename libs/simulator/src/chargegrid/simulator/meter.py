"""The connector's energy meter and the samples it reports.

The register only ever grows, because a CSMS bills on register differences; samples are
produced version-neutral here and formatted for 1.6 or 2.x by the protocol adapters.
"""

from __future__ import annotations

from dataclasses import dataclass

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
CURRENT = "Current.Import"
VOLTAGE = "Voltage"
SOC = "SoC"
DEFAULT_MEASURANDS: tuple[str, ...] = (ENERGY, POWER, CURRENT, VOLTAGE, SOC)

_PHASES = ("L1", "L2", "L3")


@dataclass(frozen=True)
class Sample:
    """One sampled value, unrounded; each version's adapter decides how to print it."""

    measurand: str
    value: float
    unit: str
    phase: str | None = None
    location: str = "Outlet"


@dataclass(frozen=True)
class MeterReading:
    """Everything the meter knows at one instant."""

    energy_wh: float
    power_w: float
    voltage_v: float
    phases: int
    soc_percent: float | None

    @property
    def current_per_phase_a(self) -> float:
        return watts_to_amps(self.power_w, self.voltage_v, self.phases)

    def samples(self, measurands: tuple[str, ...] = DEFAULT_MEASURANDS) -> list[Sample]:
        """The requested measurands, per phase where it applies (never empty: energy at least)."""
        found: list[Sample] = []
        for measurand in measurands:
            found.extend(self._samples_of(measurand))
        return found or self._samples_of(ENERGY)

    def _samples_of(self, measurand: str) -> list[Sample]:
        phases = _PHASES[: self.phases]
        if measurand == ENERGY:
            return [Sample(ENERGY, self.energy_wh, "Wh")]
        if measurand == POWER:
            return [Sample(POWER, self.power_w, "W")]
        if measurand == CURRENT:
            amps = self.current_per_phase_a
            return [Sample(CURRENT, amps, "A", phase) for phase in phases]
        if measurand == VOLTAGE:
            return [Sample(VOLTAGE, self.voltage_v, "V", f"{phase}-N") for phase in phases]
        if measurand == SOC and self.soc_percent is not None:
            return [Sample(SOC, self.soc_percent, "Percent", location="EV")]
        return []


class EnergyMeter:
    """A cumulative import register in watt-hours."""

    def __init__(self, register_wh: float = 0.0) -> None:
        self.register_wh = register_wh

    def add(self, energy_wh: float) -> None:
        if energy_wh < 0:
            raise ValueError("an import register never runs backwards")
        self.register_wh += energy_wh


def amps_to_watts(amps: float, voltage_v: float, phases: int) -> float:
    """Power of a balanced load drawing `amps` on each of `phases` phases."""
    return amps * voltage_v * phases


def watts_to_amps(watts: float, voltage_v: float, phases: int) -> float:
    """Per-phase current of a balanced load of `watts`."""
    return watts / (voltage_v * phases) if voltage_v > 0 and phases > 0 else 0.0


def parse_measurands(text: str) -> tuple[str, ...]:
    """A comma separated configuration value as a tuple (blank entries dropped)."""
    return tuple(item.strip() for item in text.split(",") if item.strip())
