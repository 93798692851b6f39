"""Tenant scoping primitives: the scoped QuerySet base and the permission model."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, ClassVar, Self, TypeVar

from django.db import models

if TYPE_CHECKING:
    from events.models import Organiser

M = TypeVar("M", bound=models.Model)


class Perm(enum.StrEnum):
    """What a member may do with an organiser's events."""

    VIEW = "view"
    MANAGE = "manage"
    ADMIN = "admin"


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    VIEWER = "viewer", "Viewer"


ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.OWNER: frozenset({Perm.VIEW, Perm.MANAGE, Perm.ADMIN}),
    Role.MANAGER: frozenset({Perm.VIEW, Perm.MANAGE}),
    Role.VIEWER: frozenset({Perm.VIEW}),
}


class OrganiserScopedQuerySet(models.QuerySet[M]):
    """QuerySet for rows owned by an Organiser.

    Subclasses set ``organiser_path`` to the ORM path from the model to its organiser
    (at most one join, e.g. ``event__organiser``).
    """

    organiser_path: ClassVar[str] = "organiser"

    def for_organiser(self, organiser: Organiser) -> Self:
        """Return only the rows that belong to ``organiser``."""
        return self.filter(**{self.organiser_path: organiser})
