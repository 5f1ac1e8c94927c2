"""Hashing of people's passwords (argon2id, off the event loop) and of client secrets.

A client secret is 256 random bits shown once: nothing can guess it, so a SHA-256 digest
compared in constant time protects it as well as argon2 would, without 0.3 s of CPU per token.
People's passwords are guessable and keep argon2id, run in a worker thread so a login never
stalls the requests around it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_SHA = "sha256$"


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def hash_client_secret(secret: str) -> str:
    return _SHA + hashlib.sha256(secret.encode()).hexdigest()


def verify_client_secret(stored_hash: str, secret: str) -> bool:
    return stored_hash.startswith(_SHA) and hmac.compare_digest(stored_hash, hash_client_secret(secret))


def new_client_id(school: str) -> str:
    return f"school-{school}-{secrets.token_hex(4)}"


def new_secret() -> str:
    return secrets.token_urlsafe(32)
