"""The Sessions gRPC API: a servicer that validates, translates and reads; nothing else.

Validation raises the platform's `DomainError`s (INVALID_ARGUMENT, NOT_FOUND), which the
server maps to status codes in one place; reads go through `queries`, paging through
opaque keyset tokens.
"""
