"""The Django side of the fan-out measurement (run by bench/run.py with the stack's settings in
the environment): an author with many followers publishes, and notifications.jobs tells each
follower in notify_followers jobs of FAN_OUT_BATCH.

    python -m bench.fanout seed --followers 10000   # the author and their followers (COPY)
    python -m bench.fanout publish                  # the author publishes one story

`seed` writes straight to Postgres (DIRECT_DATABASE_URL) with COPY, as bench/seed.py does: one
author (`fanout_author`) and `--followers` members who follow them (`fan<n>`, addresses at
fanout.example, so that the bench's other steps, which pick users at bench.example, never see
them), every password unusable. Prints {"author_id", "followers", "seconds"}.

`publish` creates one published story through Quill's own service (posts.services.create_post
with publish=True: the story, its tags, the PostPublished event and its announce_post job, in
one transaction). Prints {"post_id", "key" (the notices' key), "committed" (epoch seconds, just
after the commit), "seconds" (the service call)}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta

from bench import corpus
from bench.seed import setup_django

AUTHOR = "fanout_author"
DOMAIN = "fanout.example"


def follower_username(index: int) -> str:
    return f"fan{index}"


def seed(*, followers: int) -> dict[str, float | int]:
    import psycopg
    from django.contrib.auth.hashers import make_password

    started = time.monotonic()
    now = datetime.now(UTC).replace(microsecond=0)
    columns = (
        "password, last_login, is_superuser, email, username, name, bio, date_joined, is_active, "
        "is_staff, credentials_version, image"
    )
    with psycopg.connect(os.environ["DIRECT_DATABASE_URL"], autocommit=False) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM accounts_user WHERE username = %s", [AUTHOR])
            if (row := cur.fetchone()) is not None and row[0]:
                raise SystemExit("The fan-out author exists already: seed only once per stack.")
            with cur.copy(f"COPY accounts_user ({columns}) FROM STDIN") as copy:
                joined = now - timedelta(days=400)
                for index, username in enumerate([AUTHOR, *map(follower_username, range(followers))]):
                    copy.write_row(
                        (make_password(None), None, False, f"{username}@{DOMAIN}", username,
                         "Fan-out Author" if index == 0 else f"Fan {index}", "", joined, True, False, 0, "")
                    )  # fmt: skip
            cur.execute("SELECT id FROM accounts_user WHERE username = %s", [AUTHOR])
            author = cur.fetchone()
            assert author is not None
            cur.execute(
                "SELECT id FROM accounts_user WHERE email LIKE %s AND username <> %s ORDER BY id",
                [f"%@{DOMAIN}", AUTHOR],
            )
            ids = [row[0] for row in cur.fetchall()]
            with cur.copy("COPY accounts_follow (created_at, followed_id, follower_id) FROM STDIN") as copy:
                for follower in ids:
                    copy.write_row((now, author[0], follower))
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE accounts_user, accounts_follow")
    return {"author_id": author[0], "followers": len(ids), "seconds": round(time.monotonic() - started, 2)}


def publish(seed_value: int) -> dict[str, float | str]:
    from accounts.models import User
    from posts.services import create_post

    rng = random.Random(seed_value)
    author = User.objects.get(username=AUTHOR)
    started = time.monotonic()
    post = create_post(  # @transaction.atomic: committed when it returns
        author=author,
        title=f"Fan-out {datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
        content=corpus.body(rng),
        tags=corpus.tags(rng),
        publish=True,
    )
    committed = time.time()
    return {
        "post_id": str(post.pk),
        "key": f"published:{post.pk}",
        "committed": committed,
        "seconds": round(time.monotonic() - started, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    seed_parser = commands.add_parser("seed")
    seed_parser.add_argument("--followers", type=int, required=True)
    publish_parser = commands.add_parser("publish")
    publish_parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    setup_django()
    if args.command == "seed":
        print(json.dumps(seed(followers=args.followers)))
    else:
        print(json.dumps(publish(args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
