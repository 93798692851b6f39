"""Settings from the environment: embedded defaults, production switches, deploy check."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from PIL import ImageFile

from boothsite import env

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 60 + "production-secret-for-tests",
    "ALLOWED_HOSTS": "booth.example.com",
    "SITE_URL": "https://booth.example.com",
    "DATABASE_URL": "postgres://boothsite@127.0.0.1:5432/boothsite",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "BOOTHSITE_STORAGE": "s3",
    "AWS_STORAGE_BUCKET_NAME": "boothsite-media",
    "VONAGE_API_KEY": "key",
    "VONAGE_API_SECRET": "secret",
    "VONAGE_SIGNATURE_SECRET": "signature-secret",
    "BOOTHSITE_CREDENTIALS_KEY": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",
}


def run_manage(*args: str, env_vars: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION and not key.startswith(("VONAGE_", "AWS_", "BOOTHSITE_"))
    }
    clean["DJANGO_SETTINGS_MODULE"] = "boothsite.settings"
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env_vars},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deploy_check():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_vars=PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "SITE_URL",
        "DATABASE_URL",
        "REDIS_URL",
        "AWS_STORAGE_BUCKET_NAME",
        "VONAGE_API_KEY",
        "VONAGE_API_SECRET",
        "VONAGE_SIGNATURE_SECRET",
    ],
)
def test_missing_production_value_stops_start_up(missing):
    values = {key: value for key, value in PRODUCTION.items() if key != missing}
    result = run_manage("check", env_vars=values)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_embedded_default_needs_only_debug_true():
    result = run_manage("check", env_vars={"DEBUG": "true"})
    assert result.returncode == 0, result.stderr


def test_embedded_with_debug_off_serves_one_laptop_with_styled_pages(tmp_path):
    """LAN mode (bin/run --lan): the embedded defaults with DEBUG off, no production values.

    Guests get the styled 404, not Django's technical page, and cookies are Secure.
    """
    code = (
        "from django.conf import settings; from django.test import Client; "
        "r = Client().get('/s/no-such-link/', secure=True); "
        "print('DEBUG', settings.DEBUG, settings.SESSION_COOKIE_SECURE, "
        "settings.BOOTHSITE_SMS_GATEWAY, settings.DATABASES['default']['ENGINE']); "
        "print('STATUS', r.status_code, b\"We can't find that page\" in r.content, "
        "b'URLconf' in r.content)"
    )
    values = {
        "DEBUG": "false",
        "BOOTHSITE_EMBEDDED": "true",
        "SITE_URL": "https://192.0.2.2:8000",
        "ALLOWED_HOSTS": "192.0.2.2,testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    assert run_manage("migrate", "-v", "0", env_vars=values).returncode == 0
    result = run_manage("shell", "-c", code, env_vars=values)
    assert result.returncode == 0, result.stderr
    assert "DEBUG False True console django.db.backends.sqlite3" in result.stdout
    assert "STATUS 404 True False" in result.stdout
    assert run_manage("seed_demo", env_vars=values).returncode == 0


def test_nothing_set_is_production_and_says_how_to_develop():
    """An unset DEBUG is production (RELIABILITY 61): no debug pages, no fallback key."""
    result = run_manage("check", env_vars={})
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is false" in result.stderr
    assert "set DEBUG=true for development" in result.stderr


def test_debug_is_false_when_unset():
    values = {key: value for key, value in PRODUCTION.items() if key != "DEBUG"}
    code = "from django.conf import settings; print('DEBUG', settings.DEBUG)"
    result = run_manage("shell", "-c", code, env_vars=values)
    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout


@pytest.mark.parametrize(
    "weak_key",
    [
        "short-but-varied-0123456789",  # under 50 characters
        "ab" * 40,  # fewer than 5 different characters
        "django-insecure-" + "q8#v" * 15,  # startproject's throwaway prefix
    ],
)
def test_weak_secret_key_stops_production_start_up(weak_key):
    result = run_manage("check", env_vars={**PRODUCTION, "SECRET_KEY": weak_key})
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is too weak for production" in result.stderr
    assert weak_key not in result.stderr + result.stdout


def test_the_repository_holds_no_env_file_and_no_example_secret():
    """RELIABILITY 61's grep: no committed ``.env``; ``.env.example`` leaves secrets empty."""
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and the git checkout")
    tracked = subprocess.run(  # noqa: S603
        [git, "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert [name for name in tracked if Path(name).name.startswith(".env")] == [".env.example"]
    example = dict(re.findall(r"^([A-Z_]+)=(.*)$", (ROOT / ".env.example").read_text(), re.M))
    for name in ("SECRET_KEY", "VONAGE_API_SECRET", "VONAGE_SIGNATURE_SECRET"):
        assert example[name] == "", name
    assert example["AWS_SECRET_ACCESS_KEY"] == ""


def test_weak_secret_key_is_fine_for_development():
    result = run_manage("check", env_vars={"DEBUG": "true", "SECRET_KEY": "dev"})
    assert result.returncode == 0, result.stderr


def test_env_bool_accepts_only_true_and_false(monkeypatch):
    monkeypatch.setenv("FLAG", "true")
    assert env.env_bool("FLAG", default=False) is True
    monkeypatch.setenv("FLAG", "false")
    assert env.env_bool("FLAG", default=True) is False
    monkeypatch.setenv("FLAG", "1")
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env.env_bool("FLAG", default=False)


def test_env_secret_reads_the_file_variant(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("TOKEN", "from-env")
    monkeypatch.setenv("TOKEN_FILE", str(secret))
    assert env.env_secret("TOKEN") == "from-a-file"
    monkeypatch.setenv("TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="TOKEN_FILE"):
        env.env_secret("TOKEN")


def test_env_int_and_list(monkeypatch):
    monkeypatch.setenv("COUNT", "12")
    assert env.env_int("COUNT", default=1) == 12
    monkeypatch.setenv("COUNT", "twelve")
    with pytest.raises(ImproperlyConfigured, match="COUNT"):
        env.env_int("COUNT", default=1)
    monkeypatch.setenv("ITEMS", "GB, IE,,FR")
    assert env.env_list("ITEMS") == ["GB", "IE", "FR"]


def test_truncated_images_are_never_loaded():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_security_headers_on_pages(client, db):
    response = client.get("/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400


def test_robots_txt_disallows_private_links(client):
    body = client.get("/robots.txt").content.decode()
    assert "Disallow: /s/" in body
    assert "Disallow: /g/" in body
