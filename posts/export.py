"""A member's own copy of what they wrote: a zip of Markdown files with front matter, plus
their account as JSON. Stories go out as the author typed them (the Markdown source)."""

import io
import json
import zipfile
from datetime import datetime

from accounts.models import User
from posts.models import Post
from posts.selectors import posts_of


def _value(value: object) -> str:
    # JSON strings and null are valid YAML scalars, quoted and escaped the same way.
    if isinstance(value, datetime):
        value = value.isoformat()
    return json.dumps(value, ensure_ascii=False)


def post_markdown(post: Post) -> str:
    """The story as a Markdown file whose front matter holds its title, status, dates and tags."""
    front_matter = {
        "title": post.title,
        "slug": post.slug,
        "status": post.status,
        "published_at": post.published_at,
        "created_at": post.created_at,
        "updated_at": post.updated_at,
    }
    lines = ["---", *(f"{key}: {_value(value)}" for key, value in front_matter.items())]
    tags = ", ".join(_value(tag.name) for tag in post.tags.all())
    lines += [f"tags: [{tags}]", "---", "", post.content]
    return "\n".join(lines).rstrip("\n") + "\n"


def account_json(user: User) -> str:
    account = {
        "id": user.pk,
        "email": user.email,
        "username": user.username,
        "name": user.name,
        "bio": user.bio,
        "image": user.image,
        "date_joined": user.date_joined.isoformat(),
    }
    return json.dumps(account, ensure_ascii=False, indent=2) + "\n"


def export_archive(*, user: User) -> bytes:
    """stories/<slug>.md for every story of the user (drafts too) and account.json."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("account.json", account_json(user))
        for post in posts_of(user=user):
            archive.writestr(f"stories/{post.slug}.md", post_markdown(post))
    return buffer.getvalue()
