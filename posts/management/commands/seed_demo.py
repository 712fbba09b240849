"""Loads a small demo (one author, a few stories) into an empty database; otherwise does nothing."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from posts import services
from posts.models import Post

DEMO_EMAIL = "demo@quill.example"
DEMO_PASSWORD = "quill-demo-2026"

DEMO_POSTS = [
    (
        "Welcome to Quill",
        ["quill", "writing"],
        """Quill is a quiet place to write and read.

## What you can do

- **Write** in Markdown with a live preview.
- **Save drafts** and publish when you are ready.
- **Tag** stories so readers can find them.

> Writing is thinking on paper. — *William Zinsser*

Sign in with the demo account, open *Write*, and try it.
""",
    ),
    (
        "A short guide to Markdown",
        ["markdown", "writing"],
        """Markdown turns plain text into a tidy page.

### Emphasis

Use *italics*, **bold** and `inline code`.

### Code blocks

```python
def greet(name: str) -> str:
    return f"Hello, {name}!"
```

### Links

Link to [the Markdown guide](https://commonmark.org/help/) like this.
""",
    ),
    (
        "Why connection pools matter",
        ["postgres", "engineering"],
        """Every database connection costs memory on the server. A pool such as PgBouncer lets
hundreds of app workers share a handful of real connections, handing one out for the length of
each transaction and taking it back straight after.

That is why Quill keeps no session state in the database connection: any transaction may run
on any server connection.
""",
    ),
]


class Command(BaseCommand):
    help = "Create a demo author and a few published stories, only if the database has no users yet."

    def handle(self, *args: str, **options: object) -> None:
        if User.objects.exists() or Post.objects.exists():
            self.stdout.write("Demo data skipped: the database already has content.")
            return
        with transaction.atomic():
            author = User.objects.create_user(
                email=DEMO_EMAIL,
                password=DEMO_PASSWORD,
                username="demo",
                name="Demo Writer",
                bio="I write the stories you see on a fresh Quill.",
            )
            for title, tags, content in DEMO_POSTS:
                services.create_post(author=author, title=title, content=content, tags=tags, publish=True)
            services.create_post(
                author=author,
                title="An unfinished draft",
                content="Only its author can see this draft.",
                publish=False,
            )
        self.stdout.write(f"Demo data loaded: sign in as {DEMO_EMAIL} / {DEMO_PASSWORD}.")
