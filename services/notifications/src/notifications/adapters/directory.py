"""Addresses from the registry at delivery time (the notifications service keeps none)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx
import jwt


class RegistryDirectory:
    """Logs in to the registry with the service account and asks it for addresses in batches."""

    def __init__(self, client: httpx.AsyncClient, username: str, password: str) -> None:
        self.client = client
        self.username = username
        self.password = password
        self._token: tuple[str, float] | None = None

    async def _bearer(self) -> dict[str, str]:
        if self._token is None or self._token[1] - 60 < time.time():
            answer = await self.client.post(
                "/auth/token",
                data={"grant_type": "password", "username": self.username, "password": self.password},
            )
            answer.raise_for_status()
            token = str(answer.json()["access_token"])
            expires = float(jwt.decode(token, options={"verify_signature": False})["exp"])
            self._token = (token, expires)
        return {"Authorization": f"Bearer {self._token[0]}"}

    async def addresses(self, recipients: Sequence[str]) -> dict[str, str | None]:
        """``participant:<id>`` / ``school:<code>`` → e-mail (None: the registry has none)."""
        people = [r.removeprefix("participant:") for r in recipients if r.startswith("participant:")]
        schools = [r.removeprefix("school:") for r in recipients if r.startswith("school:")]
        answer = await self.client.post(
            "/directory/addresses",
            json={"participant_ids": people, "school_codes": schools},
            headers=await self._bearer(),
        )
        answer.raise_for_status()
        found = answer.json()
        return {
            **{f"participant:{k}": v for k, v in found["participants"].items()},
            **{f"school:{k}": v for k, v in found["schools"].items()},
        }
