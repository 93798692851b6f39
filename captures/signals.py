"""Stored files follow their rows: deleting a row deletes its files once it commits.

Covers every way a row goes (the admin, a cascade from an organiser or event, a
queryset delete): captures, variants and strips with their thumbnails, and an event's
logo. The files go only after the transaction commits, so a rolled-back delete keeps
them; a file already gone is ignored.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.db.models.signals import post_delete

from captures.models import Capture, CaptureVariant, Strip
from captures.storage import delete_quietly
from events.models import Event


def delete_stored_files(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    """Delete ``instance``'s stored files (its FileFields) after the delete commits."""
    names = [
        getattr(instance, field.attname).name
        for field in instance._meta.concrete_fields
        if isinstance(field, models.FileField)
    ]
    names = [name for name in names if name]

    def delete() -> None:
        for name in names:
            delete_quietly(name)

    if names:
        transaction.on_commit(delete)


def connect() -> None:
    """Connect ``delete_stored_files`` for every model that stores files."""
    for model in (Capture, CaptureVariant, Strip, Event):
        post_delete.connect(
            delete_stored_files, sender=model, dispatch_uid=f"files-{model.__name__}"
        )
