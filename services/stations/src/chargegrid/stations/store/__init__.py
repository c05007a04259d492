"""Persistence of the registry: one module per aggregate, each a set of functions that take
the caller's `AsyncSession`, so a handler's writes and its idempotency claim share one
transaction. Refusals are raised as the platform's `DomainError`s with a message for callers.
"""
