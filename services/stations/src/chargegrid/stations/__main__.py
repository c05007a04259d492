"""`python -m chargegrid.stations [migrate]`: run one stations process, or only migrate."""

import sys

from chargegrid.platform.entrypoint import service_main
from chargegrid.stations.app import MIGRATIONS, run
from chargegrid.stations.settings import StationsSettings

if __name__ == "__main__":
    sys.exit(
        service_main(
            StationsSettings,
            run,
            database=lambda settings: settings.database,
            migrations=MIGRATIONS,
        )
    )
