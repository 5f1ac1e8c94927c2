"""Webhook delivery rules: the signature, when to try again, and the circuit breaker per endpoint."""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    max_attempts: int = 6
    base_delay_s: float = 1.0
    max_delay_s: float = 300.0
    open_after_failures: int = 3  # consecutive failures that open an endpoint's circuit
    open_for_s: float = 60.0


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``X-MentorNet-Signature: v1=<hex>``: HMAC-SHA256 over "<timestamp>.<body>" (replays detectable)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify(secret: str, timestamp: int, body: bytes, header: str) -> bool:
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def retry_delay(attempt: int, policy: DeliveryPolicy, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: attempt 1 → up to 1 s, 2 → up to 2 s … capped at 5 min."""
    cap = min(policy.max_delay_s, policy.base_delay_s * 2 ** (attempt - 1))
    return (rng or random).uniform(cap / 2, cap)


@dataclass(frozen=True, slots=True)
class Circuit:
    failures: int = 0
    open_until: datetime | None = None

    def allows(self, now: datetime) -> bool:
        """Closed, or open with its time over (half-open: one delivery may try)."""
        return self.open_until is None or now >= self.open_until

    def after_success(self) -> Circuit:
        return Circuit()

    def after_failure(self, now: datetime, policy: DeliveryPolicy) -> Circuit:
        failures = self.failures + 1
        if failures >= policy.open_after_failures:
            return Circuit(failures, now + timedelta(seconds=policy.open_for_s))
        return Circuit(failures, None)
