"""Renders every story's Markdown again and stores the HTML, excerpt and reading time: run it
after changing the renderer (posts/markdown.py), since story pages show what was stored."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from posts.models import Post
from posts.services import rerender

BATCH = 500


class Command(BaseCommand):
    help = "Renders every story again with the current Markdown renderer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=BATCH, help=f"stories per transaction ({BATCH})")

    def handle(self, *args: Any, **options: Any) -> None:
        changed = total = 0
        ids = list(Post.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), options["batch"]):
            batch = ids[start : start + options["batch"]]
            changed += rerender(post_ids=batch)
            total += len(batch)
        self.stdout.write(f"Rendered {total} stories again; {changed} changed.")
