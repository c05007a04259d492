"""`python -m chargegrid.energy [migrate]`: run one energy process, or only migrate."""

import sys

from chargegrid.energy.app import MIGRATIONS, run
from chargegrid.energy.settings import EnergySettings
from chargegrid.platform.entrypoint import service_main

if __name__ == "__main__":
    sys.exit(
        service_main(
            EnergySettings,
            run,
            database=lambda settings: settings.database,
            migrations=MIGRATIONS,
        )
    )
