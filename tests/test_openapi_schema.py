"""The committed OpenAPI schema (docs/openapi.yaml) is the one the code generates.

A change to the API changes the schema; the diff is reviewed with the code. When this
test fails, regenerate the file and commit it:

    DJANGO_SETTINGS_MODULE=tests.settings python manage.py spectacular --file docs/openapi.yaml
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parents[1] / "docs" / "openapi.yaml"
COMMAND = (
    "DJANGO_SETTINGS_MODULE=tests.settings python manage.py spectacular --file docs/openapi.yaml"
)


def _generate(tmp_path: Path, *options: str) -> str:
    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(out), *options)
    return out.read_text(encoding="utf-8")


def test_committed_schema_matches_the_generated_one(tmp_path: Path) -> None:
    generated = _generate(tmp_path)
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    if generated != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                generated.splitlines(keepends=True),
                fromfile="docs/openapi.yaml (committed)",
                tofile="docs/openapi.yaml (generated)",
            )
        )
        pytest.fail(
            f"docs/openapi.yaml is out of date. Regenerate it with\n\n    {COMMAND}\n\n"
            f"and commit the diff:\n{diff}",
            pytrace=False,
        )


def test_schema_is_valid_openapi_with_no_warnings(tmp_path: Path) -> None:
    _generate(tmp_path, "--validate", "--fail-on-warn")


def test_every_organiser_operation_has_examples_and_errors(tmp_path: Path) -> None:
    import yaml

    schema = yaml.safe_load(_generate(tmp_path))
    problems = []
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/") or path.startswith("/api/v1/booth/"):
            continue
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            if not operation.get("summary"):
                problems.append(f"{name}: no summary")
            codes = set(operation["responses"])
            if not {"401", "403", "429"} <= codes:
                problems.append(f"{name}: error responses {sorted(codes)}")
            if "{id}" in path and "404" not in codes:
                problems.append(f"{name}: no 404")
            has_example = any(
                body.get("examples")
                for response in operation["responses"].values()
                for body in response.get("content", {}).values()
            )
            if not has_example:
                problems.append(f"{name}: no example")
    assert not problems, "\n".join(problems)
