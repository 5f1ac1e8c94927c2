"""Tokens signed by the registry are verified anywhere from its JWKS; the tenant rule holds."""

from __future__ import annotations

import time
import uuid

import pytest

from mentornet_auth import AccessDenied, InvalidToken, Principal, Role, SigningKey, TokenIssuer, TokenVerifier
from mentornet_events import Tenant

CURATOR = Principal(
    subject="curator.s1", role=Role.SCHOOL_CURATOR, region="38", municipality="m1", school="s1"
)


def test_a_token_round_trips_through_the_jwks() -> None:
    issuer = TokenIssuer([SigningKey.generate("k1")])
    verifier = TokenVerifier(issuer.jwks())
    assert verifier.verify(issuer.issue(CURATOR)) == CURATOR
    mentor = Principal(subject="m", role=Role.MENTOR, region="38", school="s1", participant_id=uuid.uuid4())
    assert verifier.verify(issuer.issue(mentor)) == mentor


def test_expired_foreign_and_tampered_tokens_are_refused() -> None:
    issuer = TokenIssuer([SigningKey.generate("k1")], lifetime_s=60)
    verifier = TokenVerifier(issuer.jwks())
    with pytest.raises(InvalidToken, match="истёк"):
        verifier.verify(issuer.issue(CURATOR, now=time.time() - 3600))
    stranger = TokenIssuer([SigningKey.generate("k1")])  # same kid, another key
    with pytest.raises(InvalidToken):
        verifier.verify(stranger.issue(CURATOR))
    token = issuer.issue(CURATOR)
    head, payload, signature = token.split(".")
    with pytest.raises(InvalidToken):
        verifier.verify(f"{head}.{payload[:-2]}AA.{signature}")


def test_rotation_keeps_old_tokens_valid() -> None:
    old, new = SigningKey.generate("k1"), SigningKey.generate("k2")
    before = TokenIssuer([old]).issue(CURATOR)
    rotated = TokenIssuer([new, old])
    verifier = TokenVerifier(rotated.jwks())
    assert verifier.verify(before) == CURATOR
    assert verifier.verify(rotated.issue(CURATOR)) == CURATOR


@pytest.mark.parametrize(
    ("principal", "tenant", "allowed"),
    [
        (
            Principal(subject="r", role=Role.REGIONAL_OPERATOR, region="38"),
            Tenant(region="38", school="s9"),
            True,
        ),
        (
            Principal(subject="r", role=Role.REGIONAL_OPERATOR, region="38"),
            Tenant(region="77", school="s9"),
            False,
        ),
        (
            Principal(subject="m", role=Role.MUNICIPAL_OPERATOR, region="38", municipality="m1"),
            Tenant(region="38", municipality="m1", school="s1"),
            True,
        ),
        (
            Principal(subject="m", role=Role.MUNICIPAL_OPERATOR, region="38", municipality="m1"),
            Tenant(region="38", municipality="m2", school="s2"),
            False,
        ),
        (CURATOR, Tenant(region="38", municipality="m1", school="s1"), True),
        (CURATOR, Tenant(region="38", municipality="m1", school="s2"), False),
        (Principal(subject="f", role=Role.FEDERAL_CONSUMER, region="38"), Tenant(region="38"), False),
    ],
)
def test_tenant_rule(principal: Principal, tenant: Tenant, allowed: bool) -> None:
    assert principal.can_access(tenant) is allowed
    if not allowed:
        with pytest.raises(AccessDenied):
            principal.require_access(tenant)
