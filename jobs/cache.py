"""What the jobs app's writes change for anonymous readers (blog_project.readcache): nothing."""

from django.db.models import Model

from blog_project.readcache import RowScopes, nothing
from jobs.models import Worker

MODELS: dict[type[Model], RowScopes] = {Worker: nothing}  # heartbeats, never on a page
