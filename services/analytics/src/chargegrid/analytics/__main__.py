"""`python -m chargegrid.analytics [migrate]`: run one analytics process, or only migrate."""

import sys

from chargegrid.analytics.app import MIGRATIONS, run
from chargegrid.analytics.settings import AnalyticsSettings
from chargegrid.platform.entrypoint import service_main

if __name__ == "__main__":
    sys.exit(
        service_main(
            AnalyticsSettings,
            run,
            database=lambda settings: settings.database,
            migrations=MIGRATIONS,
        )
    )
