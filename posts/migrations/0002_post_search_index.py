"""GIN index for full-text search, on Postgres only (SQLite searches by substring)."""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

from posts.search import SEARCH_VECTOR

INDEX_NAME = "post_search_idx"


def _search_index() -> GinIndex:
    return GinIndex(SEARCH_VECTOR, name=INDEX_NAME)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("posts", "Post"), _search_index())


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("posts", "Post"), _search_index())


class Migration(migrations.Migration):
    dependencies = [("posts", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
