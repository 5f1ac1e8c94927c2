"""The service's aggregates loaded in a command's unit of work (404 for one that does not exist)."""

from __future__ import annotations

from uuid import UUID

from mentornet_spine.http import NotFound
from mentornet_spine.uow import UnitOfWork
from programs.domain import pair as pair_domain
from programs.domain import programme as programme_domain
from programs.domain import roadmap as roadmap_domain


async def pair(uow: UnitOfWork, pair_id: UUID, version: int | None) -> pair_domain.Pair:
    found = pair_domain.Pair.replay(await uow.events(pair_domain.stream_id(pair_id), version))
    if found is None:
        raise NotFound(f"Пара {pair_id} не найдена")
    return found


async def programme(uow: UnitOfWork, programme_id: UUID, version: int | None) -> programme_domain.Programme:
    events = await uow.events(programme_domain.stream_id(programme_id), version)
    found = programme_domain.Programme.replay(events)
    if found is None:
        raise NotFound(f"Программа {programme_id} не найдена")
    return found


async def roadmap(uow: UnitOfWork, pair_id: UUID, version: int | None) -> roadmap_domain.Roadmap:
    return roadmap_domain.Roadmap.replay(
        pair_id, await uow.events(roadmap_domain.stream_id(pair_id), version)
    )
