"""`python -m chargegrid.session [migrate]`: run one session process, or only migrate."""

import sys

from chargegrid.platform.entrypoint import service_main
from chargegrid.session.app import MIGRATIONS, run
from chargegrid.session.settings import SessionSettings

if __name__ == "__main__":
    sys.exit(
        service_main(
            SessionSettings,
            run,
            database=lambda settings: settings.database,
            migrations=MIGRATIONS,
        )
    )
