"""StationControl: typed, version-neutral commands carried to stations and their answers back.

`translation` turns each gRPC request into the CALL of the station's OCPP version and the
station's CALLRESULT into the typed reply; `servicer` routes a command to the pod holding the
station (presence) and maps failures to gRPC status codes.
"""
