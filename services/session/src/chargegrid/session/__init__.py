"""Session service: the truth about charging sessions.

It builds sessions from the normalized transaction events of every OCPP version and hands
out network-wide 1.6 transaction ids.
"""
