"""`python -m chargegrid.console`: run one console process (HTTP API on port 8080)."""

import sys

from chargegrid.console.app import run
from chargegrid.console.settings import ConsoleSettings
from chargegrid.platform.entrypoint import service_main

if __name__ == "__main__":
    sys.exit(service_main(ConsoleSettings, run))
