"""The billing domain: tariffs, usage timelines and the pure cost engine. No I/O here.

Everything in this package is plain data and pure functions over `Decimal`, so the rules for
what a session costs can be tested with hand-computed expectations and no database, broker or
network.
"""
