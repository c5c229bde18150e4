"""Production mode refuses to start without its secrets and passes `check --deploy` with them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent.parent
GOOD_SECRET = "x7#kq9-not-a-real-secret-but-long-enough-for-django-deploy-checks-2026!"


def production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DJANGO_SETTINGS_MODULE": "klout.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": GOOD_SECRET,
        "DJANGO_ALLOWED_HOSTS": "klout.example.com",
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "KLOUT_VAR_DIR": str(tmp_path),
        "REDIS_URL": "redis://127.0.0.1:6379/0",  # only named: importing settings connects nowhere
        "KLOUT_CLIENT_ADDRESS": "forwarded:1",
        "KLOUT_SITE_URL": "https://klout.example.com",
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def import_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run(["-c", "import klout.settings"], env)


def test_production_settings_import_with_a_complete_environment(tmp_path: Path) -> None:
    result = import_settings(production_env(tmp_path))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY must be set"),
        ("DJANGO_ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS must be set"),
        ("TOKEN_ENCRYPTION_KEYS", "TOKEN_ENCRYPTION_KEYS must be set"),
        ("REDIS_URL", "REDIS_URL must be set"),
        ("KLOUT_CLIENT_ADDRESS", "KLOUT_CLIENT_ADDRESS must be set"),
        ("KLOUT_SITE_URL", "KLOUT_SITE_URL must be set"),
    ],
)
def test_production_refuses_to_start_without(tmp_path: Path, missing: str, message: str) -> None:
    result = import_settings(production_env(tmp_path, **{missing: None}))
    assert result.returncode != 0
    assert message in result.stderr


def test_production_refuses_a_short_secret_key(tmp_path: Path) -> None:
    result = import_settings(production_env(tmp_path, DJANGO_SECRET_KEY="short"))
    assert result.returncode != 0
    assert "50+ characters" in result.stderr


def test_production_refuses_the_development_token_key(tmp_path: Path) -> None:
    dev_key = "a2xvdXQtZGV2LW9ubHktdG9rZW4ta2V5LTMyYnl0ZXM="
    result = import_settings(production_env(tmp_path, TOKEN_ENCRYPTION_KEYS=dev_key))
    assert result.returncode != 0
    assert "must not contain the development key" in result.stderr


def test_a_malformed_boolean_fails_loudly(tmp_path: Path) -> None:
    result = import_settings(production_env(tmp_path, DJANGO_DEBUG="maybe"))
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is not a boolean" in result.stderr


def test_the_development_provider_is_never_installed_in_production(tmp_path: Path) -> None:
    result = run(
        ["-c", "import klout.settings as s; print('devnet' in s.SOCIALACCOUNT_PROVIDERS)"],
        production_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_check_deploy_passes_without_warnings_in_production(tmp_path: Path) -> None:
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_a_plain_http_site_url(tmp_path: Path) -> None:
    result = import_settings(production_env(tmp_path, KLOUT_SITE_URL="http://klout.example.com"))
    assert result.returncode != 0
    assert "KLOUT_SITE_URL='http://klout.example.com' must be an https:// URL" in result.stderr
