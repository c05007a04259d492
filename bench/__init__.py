"""ChargeGrid benchmarks: each `bench_*.py` module measures one thing against a baseline.

`make bench` runs them all and prints one JSON document. Figures come from this run on this
machine, baselines included; nothing here asserts a target (targets are read, not enforced).
"""
