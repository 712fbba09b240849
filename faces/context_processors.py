"""What every page's template knows about its own address."""

from django.http import HttpRequest

# Query parameters that make a different page of content (kept in the canonical URL).
CANONICAL_PARAMETERS = ("page", "q")


def canonical_url(request: HttpRequest) -> dict[str, str]:
    """The one address of this page, for <link rel="canonical">: no tracking parameters, the
    first page without ?page=."""
    kept = {name: request.GET[name] for name in CANONICAL_PARAMETERS if request.GET.get(name)}
    if kept.get("page") == "1":
        del kept["page"]
    query = "&".join(f"{name}={value}" for name, value in kept.items())
    url = request.build_absolute_uri(request.path)
    return {"canonical_url": f"{url}?{query}" if query else url}
