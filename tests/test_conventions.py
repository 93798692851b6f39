"""Cheap static checks of the house rules (STYLE.md 2.4, 2.8, 2.11)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ["boothsite", "events", "captures", "messaging"]
TENANT_MODELS = {
    "Event",
    "Booth",
    "Membership",
    "BoothSession",
    "Capture",
    "CaptureVariant",
    "Strip",
    "SmsMessage",
    "DeliveryReceipt",
}
ENTRY_POINTS = ["views.py", "public_views.py", "api.py", "consumers.py"]


def python_files() -> list[Path]:
    files = [p for app in APPS for p in (ROOT / app).rglob("*.py")]
    files += list((ROOT / "tests").rglob("*.py")) + list((ROOT / "bench").rglob("*.py"))
    return [p for p in files if "migrations" not in p.parts]


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_entry_points_never_query_tenant_models_directly(name):
    pattern = re.compile(r"\b(" + "|".join(TENANT_MODELS) + r")\.objects\.")
    offenders = []
    for app in APPS:
        path = ROOT / app / name
        if path.exists():
            offenders += [
                f"{path.relative_to(ROOT)}:{number}"
                for number, line in enumerate(path.read_text().splitlines(), 1)
                if pattern.search(line) and "for_organiser" not in line
            ]
    assert offenders == [], "use access_* or a for_organiser()/for_event() queryset"


def test_only_the_gateway_imports_vonage():
    importers = []
    for path in python_files():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0].startswith("vonage") for name in names):
                importers.append(str(path.relative_to(ROOT)))
    assert set(importers) <= {"messaging/gateway.py"}


def test_spelling_is_organiser():
    word = "organi" + "zer"
    files = python_files() + list((ROOT / "templates").rglob("*.html"))
    offenders = [str(p.relative_to(ROOT)) for p in files if word in p.read_text().lower()]
    assert offenders == []


@pytest.mark.parametrize("module", ["services.py", "access.py", "tasks.py"])
def test_public_functions_have_docstrings(module):
    missing = []
    for app in APPS:
        path = ROOT / app / module
        if not path.exists():
            continue
        for node in ast.parse(path.read_text()).body:
            is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_function and not node.name.startswith("_") and not ast.get_docstring(node):
                missing.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert missing == []


def test_new_events_render_the_seed_filters():
    """events cannot import the registry, so its default list is checked against it here."""
    from captures import imaging
    from events.models import DEFAULT_FILTERS

    assert tuple(DEFAULT_FILTERS) == tuple(imaging.SEED_FILTERS)


def test_every_environment_variable_is_documented():
    read = set(
        re.findall(
            r'env_(?:str|bool|int|float|list|secret)\("([A-Z_]+)"',
            (ROOT / "boothsite" / "settings.py").read_text(),
        )
    )
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - documented == set()


def test_every_booth_endpoint_extends_the_booth_base_view():
    """Booth auth, permission and throttle come from one base (pairing is anonymous)."""
    from django.urls import URLResolver, get_resolver

    from events.drf import BoothAPIView

    booth_api = next(
        pattern
        for pattern in get_resolver().url_patterns
        if isinstance(pattern, URLResolver) and str(pattern.pattern) == "api/v1/booth/"
    )
    views = {
        str(p.pattern): getattr(p.callback, "view_class", None) for p in booth_api.url_patterns
    }
    assert "me/" in views
    assert "socket-ticket/" in views
    outside = sorted(
        route
        for route, view in views.items()
        if route != "pair/" and not (view and issubclass(view, BoothAPIView))
    )
    assert outside == []
