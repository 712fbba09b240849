"""What the jobs app's writes change for anonymous readers (faces.readcache): nothing."""

from django.db.models import Model

from faces.readcache import RowScopes, nothing
from jobs.models import Worker

MODELS: dict[type[Model], RowScopes] = {Worker: nothing}  # heartbeats, never on a page
