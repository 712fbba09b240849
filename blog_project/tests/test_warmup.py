"""The warm-up gunicorn's master runs before it forks the workers (blog_project.wsgi)."""

import pytest
from django.core.wsgi import get_wsgi_application
from django.db import OperationalError, connection

from blog_project.warmup import warm_up
from posts.tests.factories import PostFactory


@pytest.mark.django_db(transaction=True)
def test_the_warm_up_answers_the_front_page_and_leaves_no_connection_to_share(capsys):
    PostFactory(title="Warm words")
    warm_up(get_wsgi_application())
    assert "Warmed up" in (log := capsys.readouterr().err) and "GET / 200 OK" in log
    # (get_wsgi_application sets up logging anew: its lines are read from stderr.)
    # Forked workers would share an open connection: the warm-up closes what it opened.
    assert closed(connection)


@pytest.mark.django_db(transaction=True)
def test_a_warm_up_that_cannot_reach_the_database_still_lets_the_server_start(capsys, settings):
    settings.ALLOWED_HOSTS = ["quill.example"]  # the one host it may name
    with connection.execute_wrapper(refuse):
        warm_up(get_wsgi_application())
    assert "(GET / 503 Service Unavailable)" in capsys.readouterr().err
    assert closed(connection)


def refuse(execute, sql, params, many, context):
    raise OperationalError("the database is down")


def closed(db) -> bool:
    # Django never closes an in-memory SQLite test database (it would vanish): there, nothing to check.
    return db.connection is None or (db.vendor == "sqlite" and db.is_in_memory_db())
