"""`python -m chargegrid.roaming [migrate]`: run one roaming process, or only migrate."""

import sys

from chargegrid.platform.entrypoint import service_main
from chargegrid.roaming.app import MIGRATIONS, run
from chargegrid.roaming.settings import RoamingSettings

if __name__ == "__main__":
    sys.exit(
        service_main(
            RoamingSettings,
            run,
            database=lambda settings: settings.database,
            migrations=MIGRATIONS,
        )
    )
