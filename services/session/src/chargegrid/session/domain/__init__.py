"""The rules of a charging session, as plain data and pure functions (no I/O).

`model` holds the version-neutral facts (Started, Updated, Ended, Rebooted) and the session
state; `meter` turns samples into energy, peak power, charging time and latest readings, so
resets, backwards registers and late samples are settled in one place; `lifecycle` applies
facts to a session whatever order they arrive in; `closing` ends the sessions a station
lost (reboot, new transaction on the outlet, outlet free, the operator); `emission` decides
which session events a change is worth.
"""
