"""WSGI entry point for gunicorn (`blog_project.wsgi:application`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")

application = get_wsgi_application()

from blog_project.warmup import warm_up  # noqa: E402 (needs the settings above)

warm_up(application)
