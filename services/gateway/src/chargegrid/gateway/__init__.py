"""The OCPP gateway: the front door every charge station of every vendor talks to.

It terminates OCPP 1.6J, 2.0.1 and 2.1 WebSockets, validates every frame against the official
schemas, publishes each frame and its version-neutral meaning to Kafka before answering, asks
the owning services for decisions over gRPC (with documented fallbacks), and carries typed
StationControl commands back to stations. It keeps no database: any replica can die or scale.
"""
