"""Writes static/css/highlight.css, the colours of highlighted code (light and dark), from
the renderer's own Pygments settings. Run it after changing them."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from posts.markdown import highlight_stylesheet


class Command(BaseCommand):
    help = "Writes static/css/highlight.css from the Markdown renderer's highlighting styles."

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(settings.BASE_DIR) / "static" / "css" / "highlight.css"
        header = "/* Made by `manage.py highlight_css` from posts/markdown.py: do not edit by hand. */\n"
        path.write_text(header + highlight_stylesheet())
        self.stdout.write(f"Wrote {path.relative_to(settings.BASE_DIR)}")
