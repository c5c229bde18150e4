"""The only settings overlay: tests. PostgreSQL and Redis when DATABASE_URL / REDIS_URL say so."""

import os

# A real OAuth 2 provider in tests (flows, bad state, token refresh); never contacted.
os.environ.setdefault("GITHUB_CLIENT_ID", "test-github-client")
os.environ.setdefault("GITHUB_CLIENT_SECRET", "test-github-secret")

from klout.settings import *  # noqa: F403
from klout.settings import VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
KLOUT_EXPORT_DIR = VAR_DIR / "test-exports"
CELERY_TASK_ALWAYS_EAGER = True  # tests that need a real worker start one (tests/worker.py)
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# Tests serve static files through the finders, not collectstatic: an empty STATIC_ROOT keeps
# WhiteNoise from warning on every request that there is none.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
