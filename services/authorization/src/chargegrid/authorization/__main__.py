"""`python -m chargegrid.authorization [migrate]`: run one replica, or only migrate."""

import sys

from chargegrid.authorization.app import MIGRATIONS, run
from chargegrid.authorization.settings import AuthorizationSettings
from chargegrid.platform.entrypoint import service_main

if __name__ == "__main__":
    sys.exit(
        service_main(
            AuthorizationSettings,
            run,
            database=lambda settings: settings.resolved_database_url(),
            migrations=MIGRATIONS,
        )
    )
