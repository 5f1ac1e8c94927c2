"""The registry's aggregates loaded in a command's unit of work (404 for one that does not exist)."""

from __future__ import annotations

from uuid import UUID

from mentornet_spine.http import NotFound
from mentornet_spine.uow import UnitOfWork
from registry.domain import participant as participant_domain
from registry.domain import school as school_domain


async def school(uow: UnitOfWork, code: str, version: int | None = None) -> school_domain.School:
    found = school_domain.School.replay(await uow.events(school_domain.stream_id(code), version))
    if found is None:
        raise NotFound(f"Организация {code} не найдена")
    return found


async def participant(
    uow: UnitOfWork, participant_id: UUID, version: int | None = None
) -> participant_domain.Participant:
    events = await uow.events(participant_domain.stream_id(participant_id), version)
    found = participant_domain.Participant.replay(events)
    if found is None:
        raise NotFound(f"Участник {participant_id} не найден")
    return found
