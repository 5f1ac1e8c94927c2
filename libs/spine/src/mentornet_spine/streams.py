"""JetStream streams are provisioned by code: one per service, plus the dead-letter stream."""

from __future__ import annotations

import contextlib

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from mentornet_events import CATALOGUE, MAX_MESSAGE_BYTES, Catalogue, Subjects

#: Covers a relay outage of this long without duplicates; store-side idempotency covers the rest.
DUPLICATE_WINDOW_S = 15 * 60


def stream_configs(
    subjects: Subjects, replicas: int = 1, catalogue: Catalogue = CATALOGUE
) -> list[StreamConfig]:
    """Event streams keep everything (projections are rebuilt from the start); limits are explicit."""
    configs = [
        StreamConfig(
            name=subjects.stream(service),
            subjects=[subjects.service_wildcard(service)],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            num_replicas=replicas,
            duplicate_window=DUPLICATE_WINDOW_S,
            discard=DiscardPolicy.NEW,
            max_msg_size=MAX_MESSAGE_BYTES,
            max_age=0,
        )
        for service in catalogue.services()
    ]
    configs.append(
        StreamConfig(
            name=subjects.dead_letter_stream,
            subjects=[subjects.dead_letter_wildcard],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            num_replicas=replicas,
            duplicate_window=DUPLICATE_WINDOW_S,
            max_age=90 * 24 * 3600,
        )
    )
    return configs


async def ensure_streams(
    js: JetStreamContext, subjects: Subjects, replicas: int = 1, catalogue: Catalogue = CATALOGUE
) -> list[str]:
    """Create missing streams and update existing ones to the declared config; idempotent."""
    names = []
    for config in stream_configs(subjects, replicas, catalogue):
        assert config.name is not None
        try:
            await js.stream_info(config.name)
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)
        names.append(config.name)
    return names


async def delete_streams(js: JetStreamContext, subjects: Subjects, catalogue: Catalogue = CATALOGUE) -> None:
    for config in stream_configs(subjects, 1, catalogue):
        assert config.name is not None
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(config.name)
