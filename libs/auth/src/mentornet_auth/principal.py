"""Who is calling, and the tenant rule every read and write is checked against."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from mentornet_events import Tenant


class Role(StrEnum):
    REGIONAL_OPERATOR = "regional_operator"
    MUNICIPAL_OPERATOR = "municipal_operator"
    FEDERAL_CONSUMER = "federal_consumer"
    SCHOOL = "school"  # a school's own system, by client credentials
    SCHOOL_CURATOR = "school_curator"
    MENTOR = "mentor"
    MENTEE = "mentee"
    SERVICE = "service"  # another MentorNet service (e.g. notifications fetching addresses)


SCHOOL_ROLES = frozenset({Role.SCHOOL, Role.SCHOOL_CURATOR, Role.MENTOR, Role.MENTEE})
#: how a person names each role (messages, the API's documentation)
ROLE_RU: dict[Role, str] = {
    Role.REGIONAL_OPERATOR: "региональный оператор",
    Role.MUNICIPAL_OPERATOR: "муниципальный оператор",
    Role.FEDERAL_CONSUMER: "федеральный уровень",
    Role.SCHOOL: "система организации",
    Role.SCHOOL_CURATOR: "куратор организации",
    Role.MENTOR: "наставник",
    Role.MENTEE: "наставляемый",
    Role.SERVICE: "сервис MentorNet",
}
ROLES_EXTRA = "x-roles"


def may(*roles: Role) -> dict[str, list[str]]:
    """``openapi_extra`` of an operation: who may call it (the handler's own checks enforce it;
    tests/unit/test_openapi_roles.py makes every operation say)."""
    return {ROLES_EXTRA: [role.value for role in roles]}


#: an operation anyone may call (sign-in, public keys, a school's application)
ANYONE = {ROLES_EXTRA: ["*"]}


class AccessDenied(PermissionError):
    """The caller is known but may not do this (HTTP 403); the message is for a person to read."""


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    role: Role
    region: str
    municipality: str | None = None
    school: str | None = None
    participant_id: UUID | None = None

    def can_access(self, tenant: Tenant) -> bool:
        """The tenant rule: the region sees its own, a municipality its schools, a school itself."""
        if self.role in (Role.FEDERAL_CONSUMER, Role.SERVICE) or tenant.region != self.region:
            return False  # services reach only the endpoints made for them
        if self.role is Role.REGIONAL_OPERATOR:
            return True
        if self.role is Role.MUNICIPAL_OPERATOR:
            return self.municipality is not None and tenant.municipality == self.municipality
        return self.school is not None and tenant.school == self.school

    def require_access(self, tenant: Tenant) -> None:
        if not self.can_access(tenant):
            raise AccessDenied("Нет доступа к данным этой организации")

    def require_role(self, *roles: Role) -> None:
        if self.role not in roles:
            raise AccessDenied("Это действие недоступно для вашей роли")
