"""Station passwords (OCPP security profiles 1-2) stored as PBKDF2-SHA256 digests.

Shared because the stations service stores them and the gateway's offline credentials file
uses the same format: `pbkdf2_sha256$<iterations>$<salt hex>$<digest hex>`. Comparison is
constant-time; a password is never stored or logged in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 200_000


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """The stored form of `password`."""
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{ALGORITHM}${iterations}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """True when `password` matches the stored digest; False for any malformed digest."""
    try:
        algorithm, iterations, salt, expected = stored.split("$")
        rounds = int(iterations)
        salt_bytes = bytes.fromhex(salt)
    except ValueError:
        return False
    if algorithm != ALGORITHM or rounds < 1:
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt_bytes, rounds)
    return hmac.compare_digest(digest.hex(), expected)


def generate_password(length: int = 24) -> str:
    """A random password within OCPP's BasicAuthPassword limits (16-40 printable characters)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))
