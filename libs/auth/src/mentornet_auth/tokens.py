"""Signed tokens (EdDSA / Ed25519) with short lifetimes, and a JWKS to verify them anywhere."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from mentornet_auth.principal import Principal, Role

ISSUER = "mentornet-registry"
AUDIENCE = "mentornet"
ALGORITHM = "EdDSA"


class InvalidToken(Exception):
    """No valid credentials (HTTP 401)."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        return cls(kid, Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, kid: str, pem: bytes) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the signing key must be an Ed25519 private key")
        return cls(kid, key)

    @classmethod
    def load_or_create(cls, path: Path, kid: str = "registry-1") -> SigningKey:
        """For the embedded system: a key file created on first start (0600). Production mounts one."""
        if path.exists():
            return cls.from_pem(kid, path.read_bytes())
        key = cls.generate(kid)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(key.pem())
        return key

    def pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(self.private_key.public_key()))
        return jwk | {"kid": self.kid, "use": "sig", "alg": ALGORITHM}


class TokenIssuer:
    def __init__(self, keys: list[SigningKey], lifetime_s: int = 900) -> None:
        """``keys[0]`` signs; all are published in the JWKS so rotation never breaks live tokens."""
        self.keys = keys
        self.lifetime_s = lifetime_s

    def issue(self, principal: Principal, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": principal.subject,
            "iat": issued,
            "exp": issued + self.lifetime_s,
            "role": principal.role.value,
            "region": principal.region,
        }
        for name in ("municipality", "school"):
            if getattr(principal, name):
                claims[name] = getattr(principal, name)
        if principal.participant_id:
            claims["pid"] = str(principal.participant_id)
        key = self.keys[0]
        return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk() for k in self.keys]}


class TokenVerifier:
    """Checks signature, issuer, audience and expiry against a JWKS (a dict, refreshed by the caller)."""

    def __init__(self, jwks: dict[str, Any], leeway_s: int = 30) -> None:
        self.leeway_s = leeway_s
        self._keys: dict[str, Ed25519PublicKey] = {}
        self.update(jwks)

    def update(self, jwks: dict[str, Any]) -> None:
        keys = {}
        for jwk in jwks.get("keys", []):
            key = OKPAlgorithm.from_jwk(json.dumps(jwk))
            if isinstance(key, Ed25519PublicKey):
                keys[jwk["kid"]] = key
        self._keys = keys

    def knows(self, kid: str) -> bool:
        return kid in self._keys

    def verify(self, token: str) -> Principal:
        try:
            kid = jwt.get_unverified_header(token).get("kid", "")
            key = self._keys.get(kid)
            if key is None:
                raise InvalidToken("токен подписан неизвестным ключом")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=self.leeway_s,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("срок действия токена истёк: получите новый") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("подпись токена не сходится: токен изменён или выдан не здесь") from None
        except (jwt.InvalidAudienceError, jwt.InvalidIssuerError):
            raise InvalidToken("токен выдан не для MentorNet") from None
        except jwt.MissingRequiredClaimError as error:
            raise InvalidToken(f"в токене нет обязательного поля {error.claim}") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("токен ещё не действует: проверьте часы") from None
        except jwt.PyJWTError:
            raise InvalidToken("недействительный токен: получите новый через /auth/token") from None
        try:
            return Principal(
                subject=claims["sub"],
                role=Role(claims["role"]),
                region=claims["region"],
                municipality=claims.get("municipality"),
                school=claims.get("school"),
                participant_id=UUID(claims["pid"]) if "pid" in claims else None,
            )
        except (KeyError, ValueError):
            raise InvalidToken("в токене нет нужных сведений (роль, регион): получите новый") from None
