"""Tenant scoping: the QuerySet bases every organiser-owned model's manager extends."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Self, TypeVar

from django.db import models

if TYPE_CHECKING:
    from events.models import Event, Organiser

M = TypeVar("M", bound=models.Model)


class OrganiserScopedQuerySet(models.QuerySet[M]):
    """QuerySet for rows owned by an Organiser.

    Subclasses set ``organiser_path`` to the ORM path from the model to its organiser
    (at most one join, e.g. ``sms__organiser``).
    """

    organiser_path: ClassVar[str] = "organiser"

    def for_organiser(self, organiser: Organiser) -> Self:
        """Return only the rows that belong to ``organiser``."""
        return self.filter(**{self.organiser_path: organiser})


class EventScopedQuerySet(OrganiserScopedQuerySet[M]):
    """QuerySet for rows with an ``event`` foreign key (sessions, captures, strips, SMS)."""

    organiser_path: ClassVar[str] = "event__organiser"

    def for_event(self, event: Event) -> Self:
        """Return only the rows recorded at ``event``."""
        return self.filter(event=event)
