from django.apps import AppConfig


class PostsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "posts"

    def ready(self) -> None:
        from faces import readcache
        from posts import cache

        readcache.declare(models=cache.MODELS, events=cache.EVENTS, upcoming=cache.UPCOMING)
