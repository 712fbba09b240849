"""The benchmark's data set and credentials, on the Django side (run by bench/run.py with the
stack's settings in the environment):

    python -m bench.seed seed --authors 100 --stories 5000 --seed 1
    python -m bench.seed credentials --out FILE

`seed` writes straight to Postgres (DIRECT_DATABASE_URL, not through PgBouncer) with COPY:
authors, tags, published stories with 3 tags each, and a member who follows ten authors, has
30 notices (claps with several actors each, follows, new stories, mentions; all unread) and
saved 30 stories to their reading list.
Derived fields are computed by Quill's own functions (posts.markdown), once for each of a
small set of distinct bodies that the stories share; every author has the same password hash
(make_password, once). Everything comes from random.Random(seed): the same seed, the same data.

`credentials` mints, with Quill's own functions, a long-lived API token for every author
(accounts.services.issue_access_token) and a signed-in session for the member, and writes
them as JSON: {"tokens": {"<user id>": "<jwt>"}, "member_cookie": "sessionid=..."}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

from bench import corpus

PASSWORD = "bench-password-not-secret"  # a throwaway stack's users
MEMBER = "bench_member"
DISTINCT_BODIES = 40
FOLLOWED_AUTHORS = 10
SAVED_STORIES = 30  # the member's reading list (/me/list/)
# The member's notices (/notifications/), by kind: claps gather several actors each.
MEMBER_NOTICES = {"clap": 12, "follow": 8, "published": 8, "mention": 2}
CLAPPERS = (2, 6)  # actors per clap notice, at least and at most
ANALYZED_POST_COLUMNS = (
    "id", "author_id", "title", "slug", "status", "published_at", "created_at", "updated_at", "version",
)  # fmt: skip


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")
    import django

    django.setup()


def author_username(index: int) -> str:
    return f"author{index}"


def seed(*, authors: int, stories: int, seed_value: int) -> dict[str, float | int]:
    import psycopg
    from django.contrib.auth.hashers import make_password
    from django.utils.text import slugify

    from posts.markdown import render_post
    from posts.services import SLUG_BASE_LENGTH

    started = time.monotonic()
    rng = random.Random(seed_value)
    now = datetime.now(UTC).replace(microsecond=0)
    password = make_password(PASSWORD)

    # A few distinct bodies, rendered the way posts.services does; stories share them.
    bodies = []
    for _ in range(min(DISTINCT_BODIES, stories)):
        content = corpus.body(rng)
        rendered_post = render_post(content)
        bodies.append(
            {
                "content": content,
                "body_html": rendered_post.html,
                "reading_time": rendered_post.reading_minutes,
                "excerpt": rendered_post.excerpt(),
            }
        )
    rendered = time.monotonic()

    with psycopg.connect(os.environ["DIRECT_DATABASE_URL"], autocommit=False) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT (SELECT count(*) FROM accounts_user) + (SELECT count(*) FROM posts_post)")
            if (row := cur.fetchone()) is None or row[0]:
                raise SystemExit(
                    "The database already has users or stories: seed only the bench's own stack."
                )
            # Empty tables truncated in this transaction take COPY ... FREEZE: rows written frozen
            # and all-visible, as if vacuumed (index-only scans work at once), in one pass.
            cur.execute("TRUNCATE accounts_user, posts_tag CASCADE")
            with cur.copy(
                "COPY accounts_user (password, last_login, is_superuser, email, username, name, bio, "
                "date_joined, is_active, is_staff, credentials_version, image) FROM STDIN (FREEZE)"
            ) as copy:
                for index in range(authors):
                    username = author_username(index)
                    joined = now - timedelta(days=800 + rng.randrange(400))
                    copy.write_row(
                        (password, None, False, f"{username}@bench.example", username,
                         corpus.full_name(rng), "", joined, True, False, 0, "")
                    )  # fmt: skip
                copy.write_row(
                    (password, None, False, f"{MEMBER}@bench.example", MEMBER, "Bench Member", "",
                     now - timedelta(days=30), True, False, 0, "")
                )  # fmt: skip
            cur.execute("SELECT username, id FROM accounts_user WHERE email LIKE %s", ["%@bench.example"])
            user_ids: dict[str, int] = dict(cur.fetchall())
            author_ids = [user_ids[author_username(index)] for index in range(authors)]

            with cur.copy("COPY posts_tag (name) FROM STDIN (FREEZE)") as copy:
                for name in corpus.TOPICS:
                    copy.write_row((name,))
            cur.execute("SELECT name, id FROM posts_tag")
            tag_ids: dict[str, int] = dict(cur.fetchall())

            links: list[tuple[uuid.UUID, int]] = []
            published_posts: list[tuple[uuid.UUID, int]] = []  # (story, its author)
            slugs: set[str] = set()
            with cur.copy(
                "COPY posts_post (id, title, slug, content, excerpt, reading_time, status, published_at, "
                "created_at, updated_at, author_id, description, body_html, cover_image, version) "
                "FROM STDIN (FREEZE)"
            ) as copy:
                for index in range(stories):
                    post_id = uuid.UUID(int=rng.getrandbits(128), version=4)
                    title = corpus.title(rng, index)
                    slug = slugify(title)[:SLUG_BASE_LENGTH].strip("-")
                    if slug in slugs:  # as posts.services does, though titles carry their index
                        slug = f"{slug[: SLUG_BASE_LENGTH - 8]}-{index}"
                    slugs.add(slug)
                    text = bodies[rng.randrange(len(bodies))]
                    published = now - timedelta(seconds=rng.randrange(2 * 365 * 86400))
                    created = published - timedelta(seconds=rng.randrange(3 * 86400))
                    author = author_ids[rng.randrange(authors)]
                    copy.write_row(
                        (post_id, title, slug, text["content"], text["excerpt"], text["reading_time"],
                         "published", published, created, published, author, "", text["body_html"], "", 1)
                    )  # fmt: skip
                    published_posts.append((post_id, author))
                    links.extend((post_id, tag_ids[name]) for name in corpus.tags(rng))
            with cur.copy("COPY posts_post_tags (post_id, tag_id) FROM STDIN (FREEZE)") as copy:
                for link in links:
                    copy.write_row(link)

            member = user_ids[MEMBER]
            with cur.copy(
                "COPY accounts_follow (created_at, followed_id, follower_id) FROM STDIN (FREEZE)"
            ) as copy:
                for followed in rng.sample(author_ids, min(FOLLOWED_AUTHORS, authors)):
                    copy.write_row((now, followed, member))

            # The member's reading list, newest saved first on /me/list/.
            with cur.copy("COPY posts_bookmark (created_at, member_id, post_id) FROM STDIN (FREEZE)") as copy:
                for index, (post_id, _) in enumerate(
                    rng.sample(published_posts, min(SAVED_STORIES, len(published_posts)))
                ):
                    copy.write_row((now - timedelta(hours=index * 7 + 1), member, post_id))

            # The member's notices, unread, keyed as notifications.jobs keys them, each with its
            # actors (several for a day's claps), spread over the last weeks.
            notices: list[tuple[str, str, uuid.UUID | None, datetime, list[int]]] = []
            stories_noticed = iter(rng.sample(published_posts, min(sum(MEMBER_NOTICES.values()), stories)))
            followers = iter(rng.sample(author_ids, min(MEMBER_NOTICES["follow"], authors)))
            for kind, count in MEMBER_NOTICES.items():
                for post_id, author in islice(stories_noticed, count):  # a story once at most
                    updated = now - timedelta(seconds=rng.randrange(21 * 86400))
                    day = updated.date().isoformat()
                    if kind == "clap":
                        actors = rng.sample(author_ids, min(rng.randint(*CLAPPERS), authors))
                        notices.append((kind, f"clap:{post_id}:{day}", post_id, updated, actors))
                    elif kind == "follow":
                        if (follower := next(followers, None)) is not None:
                            notices.append((kind, f"follow:{follower}:{day}", None, updated, [follower]))
                    elif kind == "published":
                        notices.append((kind, f"published:{post_id}", post_id, updated, [author]))
                    else:
                        notices.append((kind, f"mention:post:{post_id}", post_id, updated, [author]))
            with cur.copy(
                "COPY notifications_notification (recipient_id, kind, key, post_id, comment_id, "
                "created_at, updated_at, read_at, emailed_at) FROM STDIN (FREEZE)"
            ) as copy:
                for kind, key, subject, updated, _ in notices:
                    copy.write_row((member, kind, key, subject, None, updated, updated, None, None))
            cur.execute("SELECT key, id FROM notifications_notification WHERE recipient_id = %s", [member])
            notice_ids: dict[str, int] = dict(cur.fetchall())
            with cur.copy(
                "COPY notifications_notificationactor (notification_id, actor_id, added_at) "
                "FROM STDIN (FREEZE)"
            ) as copy:
                for _, key, _, updated, actors in notices:
                    for order, actor in enumerate(actors):
                        copy.write_row((notice_ids[key], actor, updated - timedelta(minutes=order)))
        conn.commit()
        copied = time.monotonic()
        conn.autocommit = True
        # Planner statistics, as autovacuum would gather them; posts_post's full-text expression
        # index is left out (computing to_tsvector again for every row takes seconds, and no
        # benchmark scenario searches).
        conn.execute(
            "ANALYZE accounts_user, accounts_follow, posts_tag, posts_post_tags, posts_bookmark, "
            "notifications_notification, notifications_notificationactor"
        )
        conn.execute(f"ANALYZE posts_post ({', '.join(ANALYZED_POST_COLUMNS)})")
    finished = time.monotonic()
    return {
        "authors": authors,
        "stories": stories,
        "tags_per_story": 3,
        "member_notices": len(notices),
        "member_saved": min(SAVED_STORIES, len(published_posts)),
        "distinct_bodies": len(bodies),
        "seconds_render": round(rendered - started, 2),
        "seconds_copy": round(copied - rendered, 2),
        "seconds_analyze": round(finished - copied, 2),
        "seconds_total": round(finished - started, 2),
    }


def credentials(lifetime_hours: int) -> dict[str, object]:
    from django.conf import settings
    from django.test import Client

    from accounts.models import User
    from accounts.services import issue_access_token
    from faces.api.v1 import FACE as V1

    lifetime = timedelta(hours=lifetime_hours)
    authors = User.objects.filter(email__endswith="@bench.example").exclude(username=MEMBER)
    tokens = {
        str(user.pk): issue_access_token(user=user, lifetime=lifetime, face=V1.name) for user in authors
    }
    client = Client()
    client.force_login(User.objects.get(username=MEMBER))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"tokens": tokens, "member_cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    seed_parser = commands.add_parser("seed")
    seed_parser.add_argument("--authors", type=int, default=100)
    seed_parser.add_argument("--stories", type=int, default=5000)
    seed_parser.add_argument("--seed", type=int, default=1)
    credentials_parser = commands.add_parser("credentials")
    credentials_parser.add_argument("--out", type=Path, required=True)
    credentials_parser.add_argument("--hours", type=int, default=6)
    args = parser.parse_args()
    setup_django()
    if args.command == "seed":
        print(json.dumps(seed(authors=args.authors, stories=args.stories, seed_value=args.seed)))
    else:
        args.out.write_text(json.dumps(credentials(args.hours)))
        args.out.chmod(0o600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
