"""Generated Python for ChargeGrid's protobuf messages and gRPC services.

Everything below this package is produced by `make proto` from `protos/chargegrid/api`;
edit the .proto files, never the generated code (`make test` fails when they drift).
"""
