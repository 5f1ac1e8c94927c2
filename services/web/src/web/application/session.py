"""The session: who signed in, their token and CSRF secret, in an HMAC-signed cookie.

The pages hold no data of their own, so the session is the cookie: the registry's token (15
minutes), the principal it names, and a CSRF secret. Signed with HMAC-SHA256 so it cannot be
forged or altered; HttpOnly and SameSite so scripts and other sites cannot use it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

COOKIE = "mentornet_session"


@dataclass
class Session:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    token: str | None = None
    expires_at: float = 0.0
    username: str | None = None
    role: str | None = None
    region: str | None = None
    municipality: str | None = None
    school: str | None = None
    participant_id: str | None = None
    #: a message for the next page: (kind, text), kind "ok" or "error"
    flash: tuple[str, str] | None = None

    @property
    def signed_in(self) -> bool:
        return self.token is not None and self.expires_at > time.time()

    def sign_in(self, token: str, lifetime_s: float, me: dict[str, Any]) -> None:
        self.csrf = secrets.token_urlsafe(24)  # a new secret at every sign-in
        self.token = token
        self.expires_at = time.time() + lifetime_s - 30
        self.username = me["subject"]
        self.role = me["role"]
        self.region = me["region"]
        self.municipality = me.get("municipality")
        self.school = me.get("school")
        self.participant_id = me.get("participant_id")

    def say(self, text: str, kind: str = "ok") -> None:
        self.flash = (kind, text)

    def take_flash(self) -> tuple[str, str] | None:
        flash, self.flash = self.flash, None
        return flash


class SessionCodec:
    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"mentornet-web-session\0" + secret).digest()

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()

    def dump(self, session: Session) -> str:
        body = base64.urlsafe_b64encode(json.dumps(asdict(session), separators=(",", ":")).encode())
        return (body + b"." + base64.urlsafe_b64encode(self._mac(body))).decode()

    def load(self, cookie: str | None) -> Session:
        """The session in the cookie, or a fresh anonymous one if it is missing, altered or broken."""
        if not cookie:
            return Session()
        body, _, mac = cookie.encode().partition(b".")
        try:
            if not hmac.compare_digest(base64.urlsafe_b64decode(mac), self._mac(body)):
                return Session()
            data = json.loads(base64.urlsafe_b64decode(body))
            if data.get("flash") is not None:
                data["flash"] = tuple(data["flash"])
            return Session(**data)
        except (ValueError, TypeError):
            return Session()
