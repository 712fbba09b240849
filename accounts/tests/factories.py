from typing import TYPE_CHECKING

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import User

PASSWORD = "correct-horse-battery-staple"
_password_hash: list[str] = []


def _hashed_password() -> str:
    # Argon2 is slow on purpose; hash the shared test password once per run.
    if not _password_hash:
        _password_hash.append(make_password(PASSWORD))
    return _password_hash[0]


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    if TYPE_CHECKING:
        # UserFactory(...) is UserFactory.create(...): its metaclass makes a User, which
        # factory_boy's annotations (and mypy, for metaclasses) do not say.
        def __new__(cls, *args: object, **kwargs: object) -> User: ...  # type: ignore[misc]

    email = factory.Sequence(lambda n: f"writer{n}@example.com")
    username = factory.Sequence(lambda n: f"writer{n}")
    name = factory.Faker("name")
    password = factory.LazyFunction(_hashed_password)
