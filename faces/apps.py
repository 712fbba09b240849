from django.apps import AppConfig


class FacesConfig(AppConfig):
    """What every face shares: the face registry, the middleware, CORS by view, the readers'
    cache, the JSON faces' base classes and the pages' base. It imports no domain app; the
    domain apps' faces build on it."""

    name = "faces"

    def ready(self) -> None:
        from corsheaders.signals import check_request_enabled

        from faces.cors import view_allows_cross_origin

        check_request_enabled.connect(view_allows_cross_origin)
