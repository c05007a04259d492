"""The `chargegrid` command: the one-machine dev stack, the simulator and operator commands.

`chargegrid dev` is what `make run` calls; `chargegrid sim` drives simulated charge stations
against a gateway. Operator commands talk to the services over gRPC with the admin token that
`make run` created under `var/` unless told otherwise.
"""
