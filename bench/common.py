"""What several benchmarks share: their database, production settings for a served app, manage."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def create_database(pg: str, name: str) -> None:
    """Create database `name` on the server at `pg` (a URL without a database) unless it exists."""
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}", file=sys.stderr)


def production_env(*, database_url: str, redis_url: str, var_name: str) -> dict[str, str]:
    """Production settings (DJANGO_DEBUG=0) for gunicorn and in-process set-up alike, except
    DJANGO_SECURE_SSL_REDIRECT=0: plain http on loopback."""
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        TOKEN_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DJANGO_SECURE_SSL_REDIRECT="0",
        KLOUT_SITE_URL="https://klout.example",  # production requires one; nothing is mailed here
        KLOUT_CLIENT_ADDRESS="socket",  # no proxy in front of gunicorn on loopback
        DJANGO_SETTINGS_MODULE="klout.settings",
        KLOUT_VAR_DIR=str(ROOT / "var" / "bench" / var_name),
        PYTHONPATH=str(ROOT),
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    """Run a management command with `env`."""
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT)
