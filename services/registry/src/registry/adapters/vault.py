"""Personal data encrypted per participant (AES-256-GCM), each with a data key of its own.

Data keys are wrapped by the key-encryption key (KEK) from the environment; erasing a participant
deletes their data key, so what remains of them (rows, backups) cannot be read by anyone.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.adapters.tables import participant_keys, participant_personal_data

NONCE = 12


class PersonalDataErased(LookupError):
    """The participant's key was destroyed: their personal data is gone for good."""


def load_or_create_kek(path: Path) -> bytes:
    """For the embedded system: a KEK file created on first start (0600). Production mounts one."""
    if path.exists():
        return base64.b64decode(path.read_bytes())
    key = AESGCM.generate_key(bit_length=256)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_bytes(base64.b64encode(key))
    return key


class Vault:
    def __init__(self, kek: bytes) -> None:
        if len(kek) != 32:
            raise ValueError("the key-encryption key must be 32 bytes (base64 of 256 bits)")
        self._kek = AESGCM(kek)

    @staticmethod
    def _seal(cipher: AESGCM, plaintext: bytes, context: bytes) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + cipher.encrypt(nonce, plaintext, context)

    @staticmethod
    def _open(cipher: AESGCM, sealed: bytes, context: bytes) -> bytes:
        return cipher.decrypt(sealed[:NONCE], sealed[NONCE:], context)

    async def _data_key(self, conn: AsyncConnection, participant_id: UUID) -> AESGCM | None:
        wrapped = await conn.scalar(
            select(participant_keys.c.wrapped_key).where(participant_keys.c.participant_id == participant_id)
        )
        if wrapped is None:
            return None
        return AESGCM(self._open(self._kek, wrapped, participant_id.bytes))

    async def store(self, conn: AsyncConnection, participant_id: UUID, data: dict[str, Any]) -> None:
        cipher = await self._data_key(conn, participant_id)
        if cipher is None:
            key = AESGCM.generate_key(bit_length=256)
            await conn.execute(
                insert(participant_keys).values(
                    participant_id=participant_id,
                    wrapped_key=self._seal(self._kek, key, participant_id.bytes),
                )
            )
            cipher = AESGCM(key)
            exists = False
        else:
            exists = True
        sealed = self._seal(cipher, json.dumps(data, ensure_ascii=False).encode(), participant_id.bytes)
        table = participant_personal_data
        if exists:
            await conn.execute(
                update(table).where(table.c.participant_id == participant_id).values(ciphertext=sealed)
            )
        else:
            await conn.execute(insert(table).values(participant_id=participant_id, ciphertext=sealed))

    async def store_new(self, conn: AsyncConnection, people: list[tuple[UUID, dict[str, Any]]]) -> None:
        """Keys and data of many new participants in two multi-row statements (bulk import)."""
        if not people:
            return
        keys, data = [], []
        for participant_id, person in people:
            key = AESGCM.generate_key(bit_length=256)
            plaintext = json.dumps(person, ensure_ascii=False).encode()
            keys.append(
                {
                    "participant_id": participant_id,
                    "wrapped_key": self._seal(self._kek, key, participant_id.bytes),
                }
            )
            data.append(
                {
                    "participant_id": participant_id,
                    "ciphertext": self._seal(AESGCM(key), plaintext, participant_id.bytes),
                }
            )
        await conn.execute(insert(participant_keys), keys)
        await conn.execute(insert(participant_personal_data), data)

    async def read(self, conn: AsyncConnection, participant_id: UUID) -> dict[str, Any]:
        cipher = await self._data_key(conn, participant_id)
        if cipher is None:
            raise PersonalDataErased(str(participant_id))
        sealed = await conn.scalar(
            select(participant_personal_data.c.ciphertext).where(
                participant_personal_data.c.participant_id == participant_id
            )
        )
        if sealed is None:
            raise PersonalDataErased(str(participant_id))
        data: dict[str, Any] = json.loads(self._open(cipher, sealed, participant_id.bytes))
        return data

    async def destroy_key(self, conn: AsyncConnection, participant_id: UUID) -> None:
        await conn.execute(
            delete(participant_keys).where(participant_keys.c.participant_id == participant_id)
        )
