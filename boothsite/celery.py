"""The Celery application, configured from Django settings prefixed ``CELERY_``."""

from __future__ import annotations

import os
from functools import partial
from typing import Any, ParamSpec

from celery import Celery, Task
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "boothsite.settings")

app = Celery("boothsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


P = ParamSpec("P")


def enqueue_on_commit(task: Task[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
    """Queue ``task`` once the current transaction commits (nothing on rollback).

    The same as Celery's ``delay_on_commit``, typed, and robust: a broker that is down
    (or an in-process task that fails) is logged and never fails the request whose
    rows are already committed; the sweepers pick such rows up again. Calling
    ``.delay()`` inside a transaction would let a worker look for uncommitted rows.
    """
    transaction.on_commit(partial(task.delay, *args, **kwargs), robust=True)
