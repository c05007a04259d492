"""Authorization service: who may charge, answered from memory.

Local authorization lists are kept in step on the stations through the gateway.
"""
