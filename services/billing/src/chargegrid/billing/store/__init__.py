"""Billing's repositories: small async functions over one SQLAlchemy session each, so a
handler composes several of them inside one transaction (the CDR, its outbox event and the
claimed event id commit together or not at all)."""
