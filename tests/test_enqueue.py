"""The one seam through which services queue Celery tasks: by name, after the commit."""

from __future__ import annotations

import ast

import pytest
from django.db import transaction

from boothsite.celery import app, enqueue_on_commit
from tests.test_conventions import APPS, ROOT


def enqueued_names() -> set[str]:
    names = set()
    for path in (p for name in APPS for p in (ROOT / name).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "enqueue_on_commit"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(str(node.args[0].value))
            # Task names kept in a table and looked up at the call (``SEND_TASKS``).
            if (
                isinstance(node, ast.AnnAssign | ast.Assign)
                and isinstance(node.value, ast.Dict)
                and any(
                    getattr(target, "id", "").endswith("_TASKS")
                    for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                )
            ):
                names |= {
                    str(value.value)
                    for value in node.value.values
                    if isinstance(value, ast.Constant)
                }
    return names


def test_every_enqueued_name_is_a_registered_task():
    names = enqueued_names()
    assert {"captures.tasks.render_variants", "messaging.tasks.send_sms_message"} <= names
    assert names - set(app.tasks) == set()


@pytest.mark.django_db
def test_an_unknown_name_fails_inside_the_transaction():
    with pytest.raises(KeyError), transaction.atomic():
        enqueue_on_commit("captures.tasks.no_such_task", 1)


@pytest.mark.django_db(transaction=True)
def test_the_task_runs_only_after_the_commit(monkeypatch):
    calls: list[tuple[int, ...]] = []
    task = app.tasks["captures.tasks.render_variants"]
    monkeypatch.setattr(task, "delay", lambda *args: calls.append(args))
    with transaction.atomic():
        enqueue_on_commit("captures.tasks.render_variants", 7)
        assert calls == []
    assert calls == [(7,)]

    def roll_back() -> None:
        with transaction.atomic():
            enqueue_on_commit("captures.tasks.render_variants", 8)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        roll_back()
    assert calls == [(7,)]
