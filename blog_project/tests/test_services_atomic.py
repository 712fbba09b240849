"""Every service that writes does so in one transaction: all of it or nothing (README, "every
service writes in a transaction"), and its events go out only once it commits.

Read from the code: a public function of a Quill app's services module that writes (a save,
delete, create, update... in its body or in the module's functions it calls) must be
decorated with @transaction.atomic, or do all its writing inside one `with` transaction
block. Then, for the services that were not, a failure after the first write leaves nothing."""

import ast
import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path
from types import FunctionType, ModuleType

import pytest
from django.apps import apps
from django.conf import settings
from django.db import transaction

from accounts import services as account_services
from accounts.models import Follow, User
from accounts.tests.factories import UserFactory
from posts import services
from posts.models import Clap, Comment, Post
from posts.tests.factories import PostFactory

# ORM calls that write (Django's and simplejwt's); a dict's update() counts too, harmlessly.
WRITES = {
    "save", "delete", "create", "get_or_create", "update_or_create", "update", "bulk_create",
    "bulk_update", "create_user", "set", "add", "remove", "clear", "blacklist",
}  # fmt: skip
# Modules of services under another name.
ALSO_SERVICES = ["accounts.uploads"]


def service_modules() -> Iterator[ModuleType]:
    for config in apps.get_app_configs():
        if Path(config.path).parent == settings.BASE_DIR and (Path(config.path) / "services.py").exists():
            yield importlib.import_module(f"{config.name}.services")
    for name in ALSO_SERVICES:
        yield importlib.import_module(name)


class Module:
    """A module's top-level functions, and which of them write."""

    def __init__(self, module: ModuleType) -> None:
        tree = ast.parse(Path(inspect.getfile(module)).read_text())
        self.functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        self._writes: dict[str, bool] = {}

    def writes(self, node: ast.AST) -> bool:
        """Whether `node` writes, itself or through the module's functions it calls (the
        functions it defines inside run elsewhere, e.g. on commit: they are not followed)."""
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return False
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Call):
                called = child.func
                if isinstance(called, ast.Attribute) and called.attr in WRITES:
                    return True
                if isinstance(called, ast.Name) and self.function_writes(called.id):
                    return True
            if self.writes(child):
                return True
        return False

    def function_writes(self, name: str) -> bool:
        if name not in self.functions:
            return False
        if name not in self._writes:
            self._writes[name] = False  # recursion ends here
            self._writes[name] = any(self.writes(statement) for statement in self.functions[name].body)
        return self._writes[name]


def decorated_atomic(function: FunctionType) -> bool:
    # transaction.atomic as a decorator wraps the function in a closure over its Atomic.
    return any(isinstance(cell.cell_contents, transaction.Atomic) for cell in function.__closure__ or ())


def in_one_transaction_block(module: Module, node: ast.FunctionDef) -> bool:
    writing = [statement for statement in node.body if module.writes(statement)]
    if len(writing) != 1 or not isinstance(writing[0], ast.With):
        return False
    return all(
        isinstance(item.context_expr, ast.Call)
        and (ast.unparse(item.context_expr.func).endswith(("atomic", "_transaction")))
        for item in writing[0].items
    )


def writing_services() -> Iterator[tuple[str, FunctionType, Module]]:
    """(module.function, the function, its parsed module) of every public service that writes."""
    for module in service_modules():
        parsed = Module(module)
        for name, function in vars(module).items():
            if (
                isinstance(function, FunctionType)
                and not name.startswith("_")
                and function.__module__ == module.__name__
                and parsed.function_writes(name)
            ):
                yield f"{module.__name__}.{name}", function, parsed


def test_the_services_that_write_are_found():
    found = {name for name, _, _ in writing_services()}
    assert {"posts.services.delete_post", "accounts.services.follow", "accounts.uploads.store_image"} <= found
    assert "posts.services.is_author" not in found and "accounts.services.sign_in" not in found


@pytest.mark.parametrize(
    ("name", "function", "module"), [pytest.param(*found, id=found[0]) for found in writing_services()]
)
def test_every_service_that_writes_is_one_transaction(name, function, module):
    assert decorated_atomic(function) or in_one_transaction_block(
        module, module.functions[function.__name__]
    ), f"{name} writes outside a transaction: decorate it with @transaction.atomic"


# --- A failure after the first write leaves nothing --------------------------------------------


class Failed(Exception):
    pass


@pytest.fixture
def fail_at_the_end(monkeypatch):
    """Makes the services' announcement, their last step after their writes, fail."""

    def fails(event: object) -> None:
        raise Failed

    def arm() -> None:
        for module in (services, account_services):
            monkeypatch.setattr(module, "announce", fails)

    return arm


@pytest.mark.django_db
def test_a_story_deleted_or_taken_down_is_kept_when_the_service_fails(fail_at_the_end, user):
    post = PostFactory(author=user)
    fail_at_the_end()
    with pytest.raises(Failed):
        services.delete_post(post=post, editor=user)
    with pytest.raises(Failed):
        services.unpublish_posts(posts=Post.objects.all())
    assert Post.objects.get().is_published


@pytest.mark.django_db
def test_claps_and_responses_are_unchanged_when_the_service_fails(fail_at_the_end, user, other_user):
    post = PostFactory(author=user)
    services.clap(post=post, member=user)
    comment = services.add_comment(post=post, author=other_user, body="Kept.")
    fail_at_the_end()
    for service in (
        lambda: services.clap(post=post, member=other_user),
        lambda: services.unclap(post=post, member=user),
        lambda: services.delete_comment(comment=comment, user=other_user),
        lambda: services.add_comment(post=post, author=user, body="Never kept."),
    ):
        with pytest.raises(Failed):
            service()
    assert list(Clap.objects.values_list("member", flat=True)) == [user.pk]
    assert list(Comment.objects.values_list("body", flat=True)) == ["Kept."]


@pytest.mark.django_db
def test_follows_and_reinstatements_are_unchanged_when_the_service_fails(fail_at_the_end, user, other_user):
    account_services.follow(follower=user, followed=other_user)
    suspended = [UserFactory(is_active=False), UserFactory(is_active=False)]
    fail_at_the_end()
    with pytest.raises(Failed):
        account_services.follow(follower=other_user, followed=user)
    with pytest.raises(Failed):
        account_services.unfollow(follower=user, followed=other_user)
    with pytest.raises(Failed):
        account_services.reinstate_users(users=suspended)
    assert list(Follow.objects.values_list("follower", "followed")) == [(user.pk, other_user.pk)]
    assert not User.objects.filter(pk__in=[member.pk for member in suspended], is_active=True).exists()
