"""`python -m chargegrid.gateway`: run one gateway process with settings from the environment."""

import asyncio

from chargegrid.gateway.app import run
from chargegrid.gateway.settings import GatewaySettings

if __name__ == "__main__":
    asyncio.run(run(GatewaySettings()))
