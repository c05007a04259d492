"""Credentials tokens: issuing, hashing and reading the `Authorization: Token ...` header.

OCPI 2.2.1 sends the token base64-encoded; 2.1.1 peers (and some 2.2 ones) send it raw,
which 2.2.1 asks receivers to accept too. We store only a SHA-256 digest of the tokens
partners present to us, so a header is looked up by the digest of each way to read it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets

#: Tokens are printable ASCII (credentials.asciidoc: string(64)).
TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def encode_header(token: str) -> str:
    """The Authorization header value we send: `Token <base64(token)>` (2.2.1)."""
    return "Token " + base64.b64encode(token.encode()).decode()


def header_candidates(header: str | None) -> list[str]:
    """The tokens an Authorization header may carry: base64-decoded first, then raw."""
    if not header:
        return []
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        return []
    found = []
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if decoded and decoded.isprintable():
        found.append(decoded)
    found.append(value)
    return found
