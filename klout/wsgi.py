"""WSGI entry point for gunicorn: Django, behind the API's hot path for its cached lookups."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klout.settings")
django_application = get_wsgi_application()

from scoring.api.hot_path import with_hot_path  # noqa: E402 (needs the apps loaded)

application = with_hot_path(django_application)
