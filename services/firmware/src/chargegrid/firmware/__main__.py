"""`python -m chargegrid.firmware [migrate]`: run one firmware process, or only migrate."""

import sys

from chargegrid.firmware.app import MIGRATIONS, run
from chargegrid.firmware.settings import FirmwareSettings
from chargegrid.platform.entrypoint import service_main

if __name__ == "__main__":
    sys.exit(
        service_main(
            FirmwareSettings,
            run,
            database=lambda settings: settings.database,
            migrations=MIGRATIONS,
        )
    )
