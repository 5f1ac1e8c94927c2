"""Password and client-secret hashing (argon2id); secrets are shown once and stored only hashed."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def new_client_id(school: str) -> str:
    return f"school-{school}-{secrets.token_hex(4)}"


def new_secret() -> str:
    return secrets.token_urlsafe(32)
