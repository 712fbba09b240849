"""GIN index for full-text search, on Postgres only (SQLite searches by substring)."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

# posts.search.SEARCH_VECTOR as it was when the index was made, frozen here so that the
# migration means the same thing whatever the app code becomes. If the query's expression
# changes, a new migration rebuilds the index (a test checks the planner still uses it).
SEARCH_VECTOR = SearchVector("title", weight="A", config="english") + SearchVector(
    "content", weight="B", config="english"
)

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
