from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self) -> None:
        from accounts.events import Followed
        from faces import readcache
        from kernel.events import subscribe
        from notifications import cache, jobs
        from posts.events import Clapped, CommentAdded, PostChanged, PostPublished

        readcache.declare(models=cache.MODELS)
        subscribe(CommentAdded, jobs.on_comment_added, in_transaction=True)
        subscribe(Clapped, jobs.on_clapped, in_transaction=True)
        subscribe(Followed, jobs.on_followed, in_transaction=True)
        subscribe(PostPublished, jobs.on_post_published, in_transaction=True)
        subscribe(PostChanged, jobs.on_post_changed, in_transaction=True)
