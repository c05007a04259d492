"""The Stations gRPC API: translates protos to store calls and back, one mixin per concern.

Servicers only validate, translate and call the store inside one transaction; refusals are
raised as `DomainError`s and mapped to status codes by the platform's interceptor.
"""
