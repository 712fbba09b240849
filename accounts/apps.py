from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        # The CORS decision per view must be connected before the first request.
        from blog_project import (
            cors,  # noqa: F401
            readcache,
        )

        readcache.watch(self.get_models())
