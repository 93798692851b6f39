"""The Celery application, configured from Django settings prefixed ``CELERY_``."""

from __future__ import annotations

import os

from celery import Celery
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "boothsite.settings")

app = Celery("boothsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue_on_commit(task_name: str, *args: int) -> None:
    """Queue the task registered as ``task_name`` once the current transaction commits.

    This is the one seam through which services enqueue work. Services name their
    task instead of importing it, so each app's ``tasks.py`` imports its ``services.py``
    and never the other way round (each app's ``ready()`` imports its tasks, so every
    process knows them). ``args`` are row ids: tasks take ids, never personal data.

    Nothing is queued on rollback, and nothing before the commit: ``.delay()`` inside
    the transaction would let a worker look for rows it cannot see yet. The commit hook
    is robust: a broker that is down (or an in-process task that fails) is logged and
    never fails the request whose rows are already committed. Such rows stay pending;
    nothing re-queues them yet.

    :raises KeyError: at once, inside the transaction, for a name no task is
        registered under.
    """
    task = app.tasks[task_name]

    def send() -> None:
        task.delay(*args)

    transaction.on_commit(send, robust=True)
