"""Full-text search: Postgres tsvector ranking, a plain substring match elsewhere."""

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Q, QuerySet

from posts.models import Post

SEARCH_CONFIG = "english"
QUERY_MAX_LENGTH = 200

# The migration builds its GIN index from this same expression, so the planner can use it.
SEARCH_VECTOR = SearchVector("title", weight="A", config=SEARCH_CONFIG) + SearchVector(
    "content", weight="B", config=SEARCH_CONFIG
)


def clean_query(raw: str | None) -> str:
    """User-typed search text made safe for any backend (NUL bytes cannot reach Postgres)."""
    return " ".join((raw or "").replace("\x00", " ").split())[:QUERY_MAX_LENGTH]


def filter_by_search(queryset: QuerySet[Post], query: str) -> QuerySet[Post]:
    """Stories matching `query`, best match first (newest first among equals)."""
    if connection.vendor == "postgresql":
        search_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
        return (
            queryset.annotate(document=SEARCH_VECTOR, rank=SearchRank(F("document"), search_query))
            .filter(document=search_query)
            .order_by("-rank", "-published_at")
        )
    for term in query.split():
        queryset = queryset.filter(Q(title__icontains=term) | Q(content__icontains=term))
    return queryset
