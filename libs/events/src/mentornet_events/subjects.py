"""The one subject and stream naming rule: ``<root>.<service>.<aggregate>.<event>``.

The root is ``mentornet`` in deployments; tests give each run its own root so that streams,
subjects and durable consumers of parallel tests never meet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

_ROOT = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


@cache  # a relay asks for every event it publishes; the names are the catalogue's few dozen
def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class Subjects:
    root: str = "mentornet"

    def __post_init__(self) -> None:
        if not _ROOT.match(self.root):
            raise ValueError(f"subject root {self.root!r} must be lower-case letters, digits and _")

    def event(self, service: str, aggregate: str, event_type: str) -> str:
        return f"{self.root}.{service}.{aggregate}.{snake(event_type)}"

    def service_wildcard(self, service: str) -> str:
        return f"{self.root}.{service}.>"

    def stream(self, service: str) -> str:
        return f"{self.root}_{service}".upper()

    def dead_letter(self, consumer: str) -> str:
        return f"{self.root}.dlq.{consumer}"

    @property
    def dead_letter_wildcard(self) -> str:
        return f"{self.root}.dlq.>"

    @property
    def dead_letter_stream(self) -> str:
        return f"{self.root}_dlq".upper()
