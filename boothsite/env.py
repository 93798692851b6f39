"""Typed helpers that read settings from the environment.

The environment variable name equals the setting name (STYLE.md 2.9). Every helper
raises ``ImproperlyConfigured`` naming the variable when a value cannot be parsed, so a
typo in production stops start-up instead of silently falling back to a default.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    """Return the variable as a string, or ``default`` when unset or empty."""
    value = os.environ.get(name, "")
    return value if value != "" else default


def env_bool(name: str, *, default: bool) -> bool:
    """Return ``True`` for exactly ``"true"`` and ``False`` for exactly ``"false"``.

    Raises ImproperlyConfigured for any other non-empty value ("1", "yes", "False "),
    because a misspelt DEBUG must not quietly turn debugging on or off.
    """
    value = os.environ.get(name, "")
    if value == "":
        return default
    if value == "true":
        return True
    if value == "false":
        return False
    msg = f'{name} must be "true" or "false", not {value!r}.'
    raise ImproperlyConfigured(msg)


def env_int(name: str, *, default: int) -> int:
    """Return the variable as an integer; ImproperlyConfigured when not one."""
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        msg = f"{name} must be a whole number, not {value!r}."
        raise ImproperlyConfigured(msg) from None


def env_float(name: str, *, default: float) -> float:
    """Return the variable as a float; ImproperlyConfigured when not one."""
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        return float(value)
    except ValueError:
        msg = f"{name} must be a number, not {value!r}."
        raise ImproperlyConfigured(msg) from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Return a comma-separated variable as a list of stripped, non-empty items."""
    value = os.environ.get(name, "")
    if value == "":
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, default: str = "") -> str:
    """Return a secret from ``NAME`` or from the file named by ``NAME_FILE``.

    ``NAME_FILE`` (healthchecks' convention, handy with Docker secrets) wins when both
    are set. A file that cannot be read raises ImproperlyConfigured.
    """
    file_name = os.environ.get(f"{name}_FILE", "")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            msg = f"{name}_FILE names {file_name!r}, which cannot be read: {exc.strerror}."
            raise ImproperlyConfigured(msg) from None
    return env_str(name, default)


def require(name: str, value: str, *, when: str) -> str:
    """Return ``value``, or raise ImproperlyConfigured naming ``name`` if it is empty."""
    if not value:
        msg = f"{name} must be set {when}."
        raise ImproperlyConfigured(msg)
    return value


def require_strong_secret_key(name: str, value: str) -> str:
    """Return ``value``, or raise ImproperlyConfigured naming ``name`` if it is weak.

    Weak is what Django's deploy check calls weak (``security.W009``, the rules in
    ``django.core.checks.security.base``): fewer than 50 characters, fewer than 5
    different characters, or the ``django-insecure-`` prefix of keys that
    ``startproject`` generates. Django only warns, and only under ``check --deploy``;
    production refuses to start instead. The message never contains the value.
    """
    if (
        len(value) < SECRET_KEY_MIN_LENGTH
        or len(set(value)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or value.startswith(SECRET_KEY_INSECURE_PREFIX)
    ):
        msg = (
            f"{name} is too weak for production: it needs at least {SECRET_KEY_MIN_LENGTH}"
            f" characters, at least {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different ones and no"
            f" {SECRET_KEY_INSECURE_PREFIX!r} prefix (Django's security.W009). Generate one"
            " with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
        raise ImproperlyConfigured(msg)
    return value
