"""What a recipient's preferences do to one message: mandatory ones always arrive."""

from __future__ import annotations

from dataclasses import dataclass

from notifications.domain.rules import Priority


@dataclass(frozen=True, slots=True)
class Preference:
    opt_out: bool = False
    digest: bool = False


def inbox_state(priority: Priority, preference: Preference | None) -> str:
    """shown, opted_out (kept for the delivery log only) or digest (waits for the daily digest)."""
    if priority is Priority.MANDATORY or preference is None:
        return "shown"
    if preference.opt_out:
        return "opted_out"
    if preference.digest and priority is Priority.LOW:
        return "digest"
    return "shown"


def webhook_wanted(priority: Priority, preference: Preference | None) -> bool:
    """Whether an outbound channel (webhook, e-mail) carries the message."""
    return priority is Priority.MANDATORY or preference is None or not preference.opt_out
