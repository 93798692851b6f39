"""Members' roles and what each role may do (pretix's team permissions, in three roles)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

from django.db import models


class Perm(enum.StrEnum):
    """What a member may do with an organiser's events, booths and team."""

    VIEW = "view"
    MANAGE = "manage"
    ADMIN = "admin"


class Role(models.TextChoices):
    """A member's role in one organiser; ``ROLE_PERMS`` maps it to its permissions."""

    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    VIEWER = "viewer", "Viewer"


ROLE_PERMS: Mapping[str, frozenset[Perm]] = MappingProxyType(
    {
        Role.OWNER: frozenset({Perm.VIEW, Perm.MANAGE, Perm.ADMIN}),
        Role.MANAGER: frozenset({Perm.VIEW, Perm.MANAGE}),
        Role.VIEWER: frozenset({Perm.VIEW}),
    }
)
