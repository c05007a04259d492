"""The chaos suite, short (CI): one round, so one SIGKILL of each of session, billing,
authorization, stations, the gateway and the broker under a steady 1.6 + 2.0.1 charging load;
every transaction the stations had acknowledged is one session and one CDR with their energy.
`make chaos` runs the same code with 20 rounds (bench/chaos.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bench.chaos import KINDS, ChaosSettings, Load, failed, run_chaos
from tests.e2e.reconcile import Done, reconcile
from tests.e2e.test_lost_transactions_through_the_stack import Services

probed: dict[str, int] = {}


async def reconciliation_sees_faults(services: Services, load: Load) -> None:
    """The same checks, fed a transaction the stack never saw and one with another energy,
    must count one lost and the mismatches (so a zero above is not a check that cannot fail)."""
    real = load.done[0]
    wrong = dataclasses.replace(real, energy_wh=real.energy_wh + 500)
    never = Done(real.station_id, "NEVER-SENT", 1234.0)
    result = await reconcile(services, [wrong, never], settle_timeout_s=3)
    probed.update(lost=result.lost, energy_mismatch=result.energy_mismatch)


@pytest.mark.timeout(480)  # the stack's boot, six kills and the settling, on a loaded machine
async def test_one_kill_of_each_kind_loses_and_doubles_nothing(tmp_path: Path) -> None:
    settings = ChaosSettings(rounds=1, stations=4, seed=20, pause_s=(1.0, 4.0))
    figures = await run_chaos(settings, tmp_path, probe=reconciliation_sees_faults)
    print(figures)
    assert sorted(figures["kills"]) == sorted(KINDS)
    assert set(figures["kills"].values()) == {1}
    assert figures["supervisor_saw_sigkill"] == len(KINDS)
    assert figures["transactions"] >= 8  # the load ran through the kills
    assert (figures["lost"], figures["doubled"], figures["energy_mismatch"]) == (0, 0, 0)
    assert figures["still_active"] == 0, figures["findings"]
    assert not failed(figures)
    assert probed == {"lost": 1, "energy_mismatch": 2}  # the session's and the CDR's
