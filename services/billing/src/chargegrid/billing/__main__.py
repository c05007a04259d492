"""`python -m chargegrid.billing [migrate]`: run one billing process, or only migrate."""

import sys

from chargegrid.billing.app import MIGRATIONS, run
from chargegrid.billing.settings import BillingSettings
from chargegrid.platform.entrypoint import service_main

if __name__ == "__main__":
    sys.exit(
        service_main(
            BillingSettings,
            run,
            database=lambda settings: settings.database,
            migrations=MIGRATIONS,
        )
    )
