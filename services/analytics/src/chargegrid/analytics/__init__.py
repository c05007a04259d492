"""Analytics service (chargegrid.analytics): the figures an operator decides with.

Transaction events become 15-minute window energy (from meter readings, split over the
windows the energy flowed in), CDRs become revenue rows, closed sessions become session
rows and refused tokens failed-start rows (with each session's token group and source), all
written to the service's own database in the transaction that claims each event's
id, so re-delivery, replay and late events never double count. The gRPC `Analytics` API
reads SQL only.
"""
