"""The stations' certificate authority: the CSMS CA that signs station certificates.

A station's identity is the registry's, so the CA that vouches for it lives beside it: CSRs
are checked against the station that sent them, issued certificates are recorded with their
expiry so they are renewed in time, and the chain goes back to the station through the
gateway (CertificateSigned). See ADR 017.
"""
