"""`python -m chargegrid.gateway`: run one gateway process with settings from the environment."""

from chargegrid.gateway import runtime
from chargegrid.gateway.app import run
from chargegrid.gateway.settings import GatewaySettings

if __name__ == "__main__":
    runtime.run(run(GatewaySettings()))
