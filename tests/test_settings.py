"""Settings from the environment: embedded defaults, production switches, deploy check."""

from __future__ import annotations

import os
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


def test_embedded_default_needs_nothing_set():
    result = run_manage("check", env_vars={})
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
