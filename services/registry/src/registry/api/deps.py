"""Dependencies shared by the registry's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from registry.application.registry import Registry


async def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


RegistryDep = Annotated[Registry, Depends(get_registry)]


async def if_match(
    if_match: Annotated[str | None, Header(description="Ожидаемая версия (ETag)")] = None,
) -> int | None:
    """Optimistic concurrency from the ``If-Match`` header (the ETag of a previous read)."""
    if if_match is None:
        return None
    try:
        return int(if_match.strip().strip('W/"').strip('"'))
    except ValueError:
        return -1  # never matches: the client sent something that is not one of our ETags


IfMatch = Annotated[int | None, Depends(if_match)]
