from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        from accounts import cache
        from accounts.events import EmailChanged
        from accounts.jobs import tell_the_old_address
        from faces import readcache
        from kernel.events import subscribe

        readcache.declare(models=cache.MODELS)
        subscribe(EmailChanged, tell_the_old_address, in_transaction=True)
