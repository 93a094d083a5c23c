"""The authenticated caller as the rest of the request sees it."""

from __future__ import annotations

from dataclasses import dataclass

from chengguan.audit import Actor
from chengguan.auth.roles import Permission, Role, permissions_of
from chengguan.orgs.models import Scope


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    kind: str  # person | system
    roles: frozenset[Role]
    org_id: int | None
    org_path: str | None

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.roles)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def citywide(self) -> bool:
        """Belongs to the root of the tree (the city itself), not to a district or below."""
        return self.org_path is not None and self.org_path.count("/") == 2

    @property
    def scope(self) -> Scope:
        """Citizens see no organisation's records (only their own, by explicit ownership)."""
        if self.roles <= {Role.CITIZEN}:
            return Scope(None)
        return Scope(self.org_path)

    def actor(self, ip: str | None = None) -> Actor:
        return Actor(
            kind=self.kind if self.kind == "system" else "user",
            name=self.username,
            id=self.user_id,
            org_id=self.org_id,
            ip=ip,
        )
