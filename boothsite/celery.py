"""The Celery application, configured from Django settings prefixed ``CELERY_``."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import Celery, Task
from django.db import transaction
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "boothsite.settings")

app = Celery("boothsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


class PublishBreaker:
    """Stops publishing for a while after the broker failed to take a message.

    The first publish to a broker that is down fails in well under a second; one to a
    broker that accepts TCP and never answers fails after the socket timeout
    (``BOOTHSITE_BROKER_TIMEOUT``, twice with the one publish retry). Every request
    after it would wait as long, and hold a server thread meanwhile. So after one
    failure, publishes in this process are skipped for ``seconds`` (30 by default, a
    beat sweep's interval), and the next one after that tries the broker again. Nothing
    is lost: the rows' pending state is the record, and the beat sweepers queue them
    once the broker is back. One breaker per process; thread-safe.
    """

    def __init__(self, seconds: float = 30.0) -> None:
        self.seconds = seconds
        self._open_until = 0.0
        self._lock = threading.Lock()

    def is_open(self) -> bool:
        """Whether publishes are being skipped now."""
        with self._lock:
            return time.monotonic() < self._open_until

    def trip(self) -> None:
        """Skip publishes for the next ``seconds``."""
        with self._lock:
            self._open_until = time.monotonic() + self.seconds

    def reset(self) -> None:
        """Publish again at once (tests; a process that knows the broker is back)."""
        with self._lock:
            self._open_until = 0.0


publish_breaker = PublishBreaker()


def publish(task: Task[Any, Any], *args: int) -> bool:
    """Send ``task(*args)`` to the broker now; return whether the broker took it.

    With ``CELERY_TASK_ALWAYS_EAGER`` (the embedded default) the task runs here and
    then, and its own errors propagate. Otherwise a broker that is down or silent
    (``kombu.exceptions.OperationalError`` after the bounded publish retry of
    ``CELERY_TASK_PUBLISH_RETRY_POLICY``) is logged, trips ``publish_breaker`` and
    returns False; while the breaker is open nothing is sent and False is returned at
    once. The caller's row stays pending for the sweepers either way.
    """
    if app.conf.task_always_eager:
        task.delay(*args)
        return True
    if publish_breaker.is_open():
        logger.warning("Broker unavailable: %s%s left for the sweeper.", task.name, args)
        return False
    try:
        task.delay(*args)
    except OperationalError as exc:
        publish_breaker.trip()
        logger.warning(
            "Broker unavailable (%s): %s%s left for the sweeper; publishing paused for %d s.",
            type(exc).__name__,
            task.name,
            args,
            publish_breaker.seconds,
        )
        return False
    return True


def enqueue_on_commit(
    task_name: str, *args: int, on_unsent: Callable[[], object] | None = None
) -> None:
    """Queue the task registered as ``task_name`` once the current transaction commits.

    This is the one seam through which services enqueue work. Services name their
    task instead of importing it, so each app's ``tasks.py`` imports its ``services.py``
    and never the other way round (each app's ``ready()`` imports its tasks, so every
    process knows them). ``args`` are row ids: tasks take ids, never personal data.

    Nothing is queued on rollback, and nothing before the commit: ``.delay()`` inside
    the transaction would let a worker look for rows it cannot see yet. Outside a
    transaction the task is queued at once. The work itself must already be recorded
    in the committed rows (a capture or strip pending, an SMS queued): the commit hook
    (``publish``) gives up on a broker that is down or silent within seconds, logs it
    and never fails the request whose rows are committed, and the beat sweepers
    (``captures.tasks.sweep_renders``, ``messaging.tasks.sweep_queued_sms``) queue such
    rows again. ``on_unsent`` is called when the broker did not take the task: it marks
    the row as never queued (its ``enqueued_at`` cleared), so the next sweep takes it
    at once instead of waiting ``BOOTHSITE_SWEEP_AFTER_SECONDS``. The hook is a closure,
    not a ``functools.partial``: Django's robust ``on_commit`` logs a failing hook by its
    ``__qualname__``, which a partial lacks.

    :raises KeyError: at once, inside the transaction, for a name no task is
        registered under.
    """
    task = app.tasks[task_name]

    def send() -> None:
        if not publish(task, *args) and on_unsent is not None:
            on_unsent()

    transaction.on_commit(send, robust=True)
